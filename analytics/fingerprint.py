"""A photo search's perceptual fingerprint: a 64-bit difference hash (dHash).

Near-identical photos (the same picture resized, re-compressed) share most bits, so repeats
of one photo can be counted; the photo cannot be rebuilt from 64 bits of brightness gradients.
"""

from PIL import Image


def dhash(image: Image.Image, *, size: int = 8) -> str:
    # reduce() first: a box filter by an integer factor is cheap on a large photo, and the
    # final resize then works on a few hundred pixels (bench/analytics.py: well under 1 ms).
    factor = max(1, min(image.width // (size * 4), image.height // (size * 4)))
    small = image.reduce(factor) if factor > 1 else image
    grey = small.convert("L").resize((size + 1, size), Image.Resampling.BILINEAR)
    pixels = grey.tobytes()
    bits = 0
    for row in range(size):
        line = pixels[row * (size + 1) : (row + 1) * (size + 1)]
        for col in range(size):
            bits = (bits << 1) | (line[col] > line[col + 1])
    return f"{bits:016x}"


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()
