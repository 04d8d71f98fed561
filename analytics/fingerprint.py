"""A photo search's perceptual fingerprint: a 64-bit difference hash (dHash).

Near-identical photos (the same picture resized, re-compressed) share most bits, so repeats
of one photo can be counted; the photo cannot be rebuilt from 64 bits of brightness gradients.
"""

from PIL import Image


def dhash(image: Image.Image, *, size: int = 8) -> str:
    # reducing_gap: a cheap integer box reduction first, then a small bilinear step; the
    # recorder runs this in its background thread (analytics/recorder.py).
    small = image.resize((size + 1, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    grey = small.convert("L")
    pixels = grey.tobytes()
    bits = 0
    for row in range(size):
        line = pixels[row * (size + 1) : (row + 1) * (size + 1)]
        for col in range(size):
            bits = (bits << 1) | (line[col] > line[col + 1])
    return f"{bits:016x}"


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()
