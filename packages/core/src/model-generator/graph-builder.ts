// A small ONNX graph builder: named values, initializers from typed arrays, and nodes.
// Produces plain objects shaped like onnx.GraphProto for protobufjs to encode.
import { AttributeType, DataType, type DataTypeCode } from './onnx-schema.js';

export interface TensorProtoObj {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}
interface AttributeObj {
  name: string;
  type: number;
  i?: number;
  f?: number;
  s?: Uint8Array;
  t?: TensorProtoObj;
  ints?: number[];
  floats?: number[];
}
interface NodeObj {
  op_type: string;
  name: string;
  input: string[];
  output: string[];
  attribute: AttributeObj[];
  domain: string;
}
/** A dimension: a fixed size or a symbolic (dynamic) name. */
export type Dim = number | string;
export interface ValueInfoObj {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: ({ dim_value: number } | { dim_param: string })[] } } };
}

/** Attribute value helpers (ONNX attributes are typed). */
export const attr = {
  int: (i: number) => ({ type: AttributeType.INT, i }),
  float: (f: number) => ({ type: AttributeType.FLOAT, f }),
  ints: (ints: number[]) => ({ type: AttributeType.INTS, ints }),
  floats: (floats: number[]) => ({ type: AttributeType.FLOATS, floats }),
  str: (s: string) => ({ type: AttributeType.STRING, s: new TextEncoder().encode(s) }),
};
type AttrValue = Omit<AttributeObj, 'name'>;

type TypedData = Float32Array | BigInt64Array | Int32Array | Uint8Array | Int8Array;

function bytesOf(data: TypedData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function valueInfo(name: string, elemType: DataTypeCode, dims: Dim[]): ValueInfoObj {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

export class GraphBuilder {
  readonly nodes: NodeObj[] = [];
  readonly initializers: TensorProtoObj[] = [];
  private counter = 0;
  private readonly constCache = new Map<string, string>();

  /** A fresh value name with a readable prefix. */
  fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  /** Adds an initializer (weights or constants); returns its name. */
  init(name: string, dims: number[], data: TypedData): string {
    const dataType =
      data instanceof Float32Array
        ? DataType.FLOAT
        : data instanceof BigInt64Array
          ? DataType.INT64
          : data instanceof Int32Array
            ? DataType.INT32
            : data instanceof Int8Array
              ? DataType.INT8
              : DataType.UINT8;
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== data.length) throw new Error(`initializer ${name}: ${data.length} values for dims [${dims.join(',')}]`);
    this.initializers.push({ name, dims, data_type: dataType, raw_data: bytesOf(data) });
    return name;
  }

  /** Adds a float16 initializer from its IEEE half bits. */
  initFloat16(name: string, dims: number[], bits: Uint16Array): string {
    this.initializers.push({ name, dims, data_type: DataType.FLOAT16, raw_data: new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength) });
    return name;
  }

  /** A shared int64 constant (1-D unless `scalar`). */
  i64(values: number[], scalar = false): string {
    const key = `i64:${scalar}:${values.join(',')}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.init(this.fresh('const_i64'), scalar ? [] : [values.length], BigInt64Array.from(values.map(BigInt)));
      this.constCache.set(key, name);
    }
    return name;
  }

  /** A shared float constant (1-D unless `scalar`). */
  f32(values: number[], scalar = false): string {
    const key = `f32:${scalar}:${values.join(',')}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.init(this.fresh('const_f32'), scalar ? [] : [values.length], Float32Array.from(values));
      this.constCache.set(key, name);
    }
    return name;
  }

  /** Adds a node with one output; returns the output name. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    return this.opN(opType, inputs, 1, attrs, output ? [output] : undefined)[0]!;
  }

  /** Adds a node with `n` outputs; returns the output names. */
  opN(opType: string, inputs: string[], n: number, attrs: Record<string, AttrValue> = {}, outputs?: string[]): string[] {
    const outs = outputs ?? Array.from({ length: n }, () => this.fresh(opType.toLowerCase()));
    this.nodes.push({
      op_type: opType,
      name: this.fresh(`n_${opType}`),
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([name, v]) => ({ name, ...v })),
      domain: '',
    });
    return outs;
  }
}
