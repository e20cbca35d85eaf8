"""Product pictures uploaded by a brand's managers: checked, made once into the sizes the pages
show, and kept under content-addressed names so they can be cached for ever.

An upload is taken only when its bytes are a JPEG, PNG or WebP (whatever its name or Content-Type
says), within a byte limit and a pixel limit read from its header before anything is decoded, so a
small file that would decode into gigabytes is refused. The picture is turned upright (EXIF
orientation), put into sRGB, stripped of every metadata (EXIF with its GPS position, XMP, ICC), and
written as WebP in three sizes, each fitting a square: 160 px (the strip, the card, lists), 480 px
(the sheet, the coming-products row, on any screen density) and 1080 px (the picture itself).

Files are `<folder>/<ab>/<abcdef…>-<size>.webp`, served at `/pictures/<abcdef…>-<size>.webp`; the name
is a hash of the uploaded bytes, so the same upload is the same picture and a name never changes
meaning. Each file is written under a temporary name and renamed into place, the largest last: a
picture whose largest file exists is complete, and no half-written file is ever served.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from shopcast.core.errors import InvalidInput, Number, PayloadTooLarge, UnsupportedMediaType

SIZES = (160, 480, 1080)
"""Each size is a square the picture fits in; pages pick one with srcset (frontend/src/shared/product.js)."""
LARGEST = SIZES[-1]
URL_PREFIX = "/pictures/"
NAME = re.compile(r"^(?P<digest>[0-9a-f]{32})-(?P<size>\d+)\.webp$")
URL = re.compile(rf"^{URL_PREFIX}[0-9a-f]{{32}}-({'|'.join(map(str, SIZES))})\.webp$")
"""A picture's address as products list it (`image_urls`): a path on Shopcast itself."""
WEBP_QUALITY = 82

_SRGB = ImageCms.createProfile("sRGB")


Refusal = TypeVar("Refusal", InvalidInput, PayloadTooLarge, UnsupportedMediaType)


def _refused(error: type[Refusal], reason: str, key: str, **limits: int) -> Refusal:
    """A refusal with a stable `reason` the pages translate, and the limit it is about (in the
    problem, and in its detail as a number)."""
    return error(key, extra={"reason": reason, **limits}, **{name: Number(n) for name, n in limits.items()})


def sniff(content: bytes) -> str | None:
    """The format the bytes themselves are in ("JPEG", "PNG", "WEBP"), or None for anything else."""
    if content.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "WEBP"
    return None


@dataclass(frozen=True)
class StoredPicture:
    digest: str
    width: int
    """Of the largest size."""
    height: int

    def url(self, size: int = LARGEST) -> str:
        return f"{URL_PREFIX}{self.digest}-{size}.webp"


def _opened(content: bytes, max_pixels: int) -> Image.Image:
    """The picture, opened (its header read, nothing decoded), if it is one Shopcast takes."""
    kind = sniff(content)
    if kind is None:
        raise _refused(UnsupportedMediaType, "not_a_picture", "errors.picture.not_a_picture")
    too_many = _refused(InvalidInput, "too_many_pixels", "errors.picture.too_many_pixels", max_pixels=max_pixels)
    try:
        with warnings.catch_warnings():
            # Pillow's own guard warns past ~89 Mpx (our limit is checked below, whatever it is) and
            # refuses past twice that before we see the size: a refusal here too.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(content), formats=[kind])
    except Image.DecompressionBombError:
        raise too_many from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _damaged(kind) from None
    width, height = picture.size
    if width * height > max_pixels:
        raise too_many
    return picture


def _damaged(kind: str) -> InvalidInput:
    return InvalidInput("errors.picture.damaged", kind="WebP" if kind == "WEBP" else kind, extra={"reason": "damaged"})


def _upright_srgb(picture: Image.Image, kind: str) -> Image.Image:
    """Decoded, turned as the camera held it, in sRGB, RGB or RGBA, with no metadata left."""
    if kind == "JPEG":
        # A JPEG decodes at 1/2, 1/4 or 1/8 of its size straight away: a phone photo takes a fraction
        # of the memory and time, still larger than the largest size made from it.
        picture.draft(None, (LARGEST, LARGEST))
    try:
        picture.load()
    except (OSError, SyntaxError, ValueError, EOFError):
        raise _damaged(kind) from None
    try:
        ImageOps.exif_transpose(picture, in_place=True)
    except (OSError, SyntaxError, ValueError, TypeError, KeyError):
        pass  # unreadable EXIF: the picture is kept as it was drawn
    if picture.mode == "I" or picture.mode.startswith("I;16"):
        # 16-bit grey: to 8 bits by scale (a plain conversion clips everything above 255 to white).
        picture = picture.convert("I").point(lambda value: value * (1 / 257)).convert("L")
    profile = picture.info.get("icc_profile")
    alpha = picture.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in picture.info
    mode = "RGBA" if alpha else "RGB"
    if profile and picture.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            converted = ImageCms.profileToProfile(picture, source, _SRGB, outputMode=mode)
            picture = converted if converted is not None else picture
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a profile littlecms cannot use: the colours are taken as sRGB
    picture = picture.convert(mode)
    picture.info = {}
    return picture


def _webp(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, "WEBP", quality=WEBP_QUALITY, method=4, exif=b"", icc_profile=None, xmp=b"")
    return out.getvalue()


def prepare(content: bytes, *, max_pixels: int) -> tuple[dict[int, bytes], tuple[int, int]]:
    """Each size's WebP file, and the largest one's pixel size; refuses what is not a picture to take."""
    picture = _opened(content, max_pixels)
    kind = picture.format or "JPEG"
    picture = _upright_srgb(picture, kind)
    files: dict[int, bytes] = {}
    largest = (0, 0)
    for size in sorted(SIZES, reverse=True):  # each from the one above it: less to resample
        picture.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)
        picture.info = {}
        files[size] = _webp(picture)
        if size == LARGEST:
            largest = picture.size
    return files, largest


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class PictureStore:
    """The folder of product pictures (SHOPCAST_PICTURES_DIR): what goes in, and where each file is."""

    def __init__(self, folder: Path, *, max_bytes: int, max_pixels: int, at_once: int = 2) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        # Decoding a large PNG takes memory (4 bytes a pixel): only a few at a time per process.
        self._decoding = asyncio.Semaphore(at_once)

    def path(self, name: str) -> Path | None:
        """Where the file named `name` is kept, or None when no picture is named so."""
        found = NAME.match(name)
        if found is None or int(found["size"]) not in SIZES:
            return None
        return self.folder / found["digest"][:2] / name

    def too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            "errors.picture.too_large",
            max_bytes=Number(self.max_bytes),
            mib=self.max_bytes // 2**20,
            extra={"reason": "too_large", "max_bytes": self.max_bytes},
        )

    async def save(self, content: bytes) -> StoredPicture:
        """Check the upload and write its sizes (once: the same bytes are the same picture)."""
        if len(content) > self.max_bytes:
            raise self.too_large()
        if not content:
            raise _refused(UnsupportedMediaType, "not_a_picture", "errors.picture.empty")
        digest = hashlib.sha256(content).hexdigest()[:32]
        async with self._decoding:
            return await asyncio.to_thread(self._save, digest, content)

    def _save(self, digest: str, content: bytes) -> StoredPicture:
        stored = StoredPicture(digest, 0, 0)
        largest = self.folder / digest[:2] / Path(stored.url()).name
        if largest.exists():  # written whole before: the largest file is always the last one renamed in
            with Image.open(largest) as existing:
                width, height = existing.size
            return StoredPicture(digest, width, height)
        files, (width, height) = prepare(content, max_pixels=self.max_pixels)
        for size in SIZES:  # smallest first, the largest last
            _write_atomically(self.folder / digest[:2] / Path(stored.url(size)).name, files[size])
        return StoredPicture(digest, width, height)
