/**
 * PostgreSQL binary COPY encoding of `(id bigint, embedding real[])` rows — the staging table the
 * pgvector adapter bulk-loads through (`COPY … FROM STDIN (FORMAT binary)`), then casts to
 * `vector`/`halfvec` in one `INSERT … SELECT`. Format: the 11-byte signature, flags and header
 * extension (int32 0 each), per row an int16 field count and each field as int32 length + bytes,
 * then the int16 −1 trailer. A real[] is (ndim, has-nulls, element oid 700, length, lower bound)
 * followed by each element as int32 length 4 + big-endian float4.
 */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const FLOAT4_OID = 700;

/** The bytes of a binary COPY stream holding rows `ids[i]`, `vectors[i*dim … (i+1)*dim)`. */
export function encodeCopyRows(ids: ArrayLike<number>, vectors: Float32Array, dimension: number): Buffer {
  const arrayBytes = 20 + dimension * 8;
  const rowBytes = 2 + 4 + 8 + 4 + arrayBytes;
  const buf = Buffer.alloc(SIGNATURE.length + 8 + ids.length * rowBytes + 2);
  let o = SIGNATURE.copy(buf, 0);
  o = buf.writeInt32BE(0, o);
  o = buf.writeInt32BE(0, o);
  for (let i = 0; i < ids.length; i++) {
    o = buf.writeInt16BE(2, o);
    o = buf.writeInt32BE(8, o);
    o = buf.writeBigInt64BE(BigInt(ids[i]!), o);
    o = buf.writeInt32BE(arrayBytes, o);
    o = buf.writeInt32BE(1, o);
    o = buf.writeInt32BE(0, o);
    o = buf.writeInt32BE(FLOAT4_OID, o);
    o = buf.writeInt32BE(dimension, o);
    o = buf.writeInt32BE(1, o);
    const base = i * dimension;
    for (let j = 0; j < dimension; j++) {
      o = buf.writeInt32BE(4, o);
      o = buf.writeFloatBE(vectors[base + j]!, o);
    }
  }
  buf.writeInt16BE(-1, o);
  return buf;
}
