#!/usr/bin/env python3
"""Writes the preprocessing test images (test/fixtures/images/) and the reference crops that the
CLIP transform makes of them (test/fixtures/preprocess/), using Pillow (Debian's python3-pil).

Reference transform (openai/CLIP's torchvision pipeline, with two documented choices that
pixsearch makes and the reference leaves open):
  1. EXIF orientation applied (ImageOps.exif_transpose) -- the reference ignores EXIF;
  2. Image.convert('RGB') BEFORE resizing (as Hugging Face's CLIPImageProcessor does), so alpha
     is dropped keeping the stored colour, palettes are expanded, and CMYK uses PIL's formula;
  3. resize the shortest side to `size` with PIL BICUBIC, the long side int(size * long / short);
  4. torchvision center crop: top = int(round((h - crop) / 2)), left likewise.
Saved: the uint8 RGB crop (HWC, raw bytes) before /255 and normalisation, which are plain arithmetic.
16-bit grayscale: PIL's own I;16 -> RGB conversion clips every value above 255 to white; the
reference instead takes the high byte (v >> 8), which is what an image viewer shows.

Usage, from packages/core: /usr/bin/python3 scripts/preprocess_reference.py
"""
import io
import json
import os
import struct
import zlib

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES = os.path.join(HERE, '..', 'test', 'fixtures', 'images')
REFS = os.path.join(HERE, '..', 'test', 'fixtures', 'preprocess')


def synthetic_photo(w, h, seed):
    """A photo-like image: smooth gradients, soft shapes, fine texture, sensor-like noise."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        fx, fy, ph = rng.uniform(0.5, 3), rng.uniform(0.5, 3), rng.uniform(0, 6.28)
        img[..., c] = 128 + 80 * np.sin(fx * x / w * 6.28 + ph) * np.cos(fy * y / h * 6.28)
    im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    for _ in range(25):
        x0, y0 = rng.randint(0, w), rng.randint(0, h)
        x1, y1 = x0 + rng.randint(3, max(4, w // 3)), y0 + rng.randint(3, max(4, h // 3))
        col = tuple(int(v) for v in rng.randint(0, 256, 3))
        (d.ellipse if rng.rand() < 0.5 else d.rectangle)([x0, y0, x1, y1], fill=col)
    for i in range(0, w, 7):
        d.line([i, h * 2 // 3, i + 20, h], fill=(240, 240, 230), width=1)
    im = im.filter(ImageFilter.GaussianBlur(0.8))
    arr = np.asarray(im).astype(np.float32) + rng.normal(0, 6, (h, w, 3))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def write_png16(path, arr):
    """Minimal 16-bit PNG writer (Pillow cannot save 16-bit RGB): arr uint16 HxW or HxWx3."""
    h, w = arr.shape[:2]
    color_type = 2 if arr.ndim == 3 else 0
    raw = b''.join(b'\x00' + arr[r].astype('>u2').tobytes() for r in range(h))

    def chunk(t, data):
        return struct.pack('>I', len(data)) + t + data + struct.pack('>I', zlib.crc32(t + data) & 0xFFFFFFFF)

    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n')
        f.write(chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 16, color_type, 0, 0, 0)))
        f.write(chunk(b'IDAT', zlib.compress(raw, 9)))
        f.write(chunk(b'IEND', b''))


def make_images():
    os.makedirs(IMAGES, exist_ok=True)
    photo = synthetic_photo(640, 480, 1)
    photo.save(os.path.join(IMAGES, 'photo.jpg'), quality=88)
    small = synthetic_photo(240, 160, 2)
    for orientation in (3, 5, 6, 8):
        exif = Image.Exif()
        exif[0x0112] = orientation
        small.save(os.path.join(IMAGES, f'exif-orientation-{orientation}.jpg'), quality=90, exif=exif)
    # RGBA: alpha ramp and a fully transparent block whose stored colour is magenta.
    rgba = synthetic_photo(200, 150, 3).convert('RGBA')
    a = np.asarray(rgba).copy()
    a[..., 3] = np.tile(np.linspace(0, 255, 200).astype(np.uint8), (150, 1))
    a[20:80, 120:190] = (255, 0, 255, 0)
    Image.fromarray(a, 'RGBA').save(os.path.join(IMAGES, 'alpha.png'))
    synthetic_photo(180, 240, 4).convert('L').save(os.path.join(IMAGES, 'gray.jpg'), quality=90)
    synthetic_photo(120, 100, 5).convert('LA').save(os.path.join(IMAGES, 'gray-alpha.png'))
    pal = synthetic_photo(160, 120, 6).quantize(colors=32)
    pal.save(os.path.join(IMAGES, 'palette.png'), transparency=3)
    rng = np.random.RandomState(7)
    base = np.asarray(synthetic_photo(150, 110, 7)).astype(np.uint32)
    rgb16 = (base * 257 + rng.randint(0, 257, base.shape)).astype(np.uint16)
    write_png16(os.path.join(IMAGES, 'rgb16.png'), rgb16)
    write_png16(os.path.join(IMAGES, 'gray16.png'), rgb16[..., 1])
    synthetic_photo(130, 170, 8).convert('CMYK').save(os.path.join(IMAGES, 'cmyk.jpg'), quality=92)
    frames = [synthetic_photo(120, 90, 9 + i).convert('P', palette=Image.ADAPTIVE, colors=64) for i in range(3)]
    frames[0].save(os.path.join(IMAGES, 'animated.gif'), save_all=True, append_images=frames[1:], duration=100, loop=0)
    synthetic_photo(320, 240, 12).save(os.path.join(IMAGES, 'photo.webp'), quality=80)
    synthetic_photo(40, 30, 13).save(os.path.join(IMAGES, 'small.png'))
    synthetic_photo(400, 50, 14).save(os.path.join(IMAGES, 'wide.png'))
    synthetic_photo(67, 64, 15).save(os.path.join(IMAGES, 'odd-crop.png'))
    with open(os.path.join(IMAGES, 'photo.jpg'), 'rb') as f:
        data = f.read()
    with open(os.path.join(IMAGES, 'truncated.jpg'), 'wb') as f:
        f.write(data[: len(data) // 2])
    with open(os.path.join(IMAGES, 'not-an-image.jpg'), 'wb') as f:
        f.write(b'this is a text file, not a JPEG\n' * 4)


def to_rgb(im):
    if im.mode in ('I;16', 'I;16B', 'I;16L', 'I'):
        return Image.fromarray((np.asarray(im).astype(np.uint32) >> 8).astype(np.uint8), 'L').convert('RGB')
    return im.convert('RGB')


def reference(path, size, crop):
    im = Image.open(path)
    im = ImageOps.exif_transpose(im)
    im = to_rgb(im)
    w, h = im.size
    if w <= h:
        nw, nh = size, int(size * h / w)
    else:
        nw, nh = int(size * w / h), size
    im = im.resize((nw, nh), Image.BICUBIC)
    top = int(round((nh - crop) / 2.0))
    left = int(round((nw - crop) / 2.0))
    im = im.crop((left, top, left + crop, top + crop))
    return np.asarray(im, dtype=np.uint8)


CASES = [
    ('photo.jpg', 224), ('photo.jpg', 64), ('alpha.png', 224),
    ('exif-orientation-3.jpg', 64), ('exif-orientation-5.jpg', 64), ('exif-orientation-6.jpg', 64), ('exif-orientation-8.jpg', 64),
    ('alpha.png', 64), ('gray.jpg', 64), ('gray-alpha.png', 64), ('palette.png', 64), ('rgb16.png', 64), ('gray16.png', 64),
    ('cmyk.jpg', 64), ('animated.gif', 64), ('photo.webp', 64), ('small.png', 64), ('wide.png', 64), ('odd-crop.png', 64),
]


def main():
    make_images()
    os.makedirs(REFS, exist_ok=True)
    index = []
    for name, size in CASES:
        arr = reference(os.path.join(IMAGES, name), size, size)
        out = f'{name}.{size}.rgb'
        with open(os.path.join(REFS, out), 'wb') as f:
            f.write(arr.tobytes())
        src = ImageOps.exif_transpose(Image.open(os.path.join(IMAGES, name)))
        index.append({'image': name, 'size': size, 'crop': size, 'reference': out, 'sourceWidth': src.size[0], 'sourceHeight': src.size[1], 'mode': Image.open(os.path.join(IMAGES, name)).mode})
    with open(os.path.join(REFS, 'index.json'), 'w') as f:
        json.dump({'generator': 'scripts/preprocess_reference.py', 'pillow': Image.__version__, 'cases': index}, f, indent=1)
        f.write('\n')
    print(f'wrote {len(index)} references')


if __name__ == '__main__':
    main()
