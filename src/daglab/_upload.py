"""Uploading an export to cloud storage through fsspec, with a signed URL to share it.

``s3://bucket/prefix`` (s3fs), ``gs://bucket/prefix`` (gcsfs) and ``az://container/prefix``
(adlfs) are the destinations; the three filesystem packages are the ``cloud`` extra
(``pip install 'daglab[cloud]'``). Credentials come from each library's usual places (for S3:
``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_PROFILE``, and ``AWS_ENDPOINT_URL_S3`` or
``AWS_ENDPOINT_URL`` for an S3-compatible endpoint, which botocore reads itself); daglab never
prints them.

The object lands at ``<prefix>/<file name>`` (or exactly at the URL's path when it ends in
``.html``/``.html.gz``). A gzipped export is stored with ``Content-Encoding: gzip`` on S3 and GCS
so that a browser opening the signed URL shows the notebook.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._clean import EXPORT_SUFFIXES
from daglab._errors import ConnectivityError, EnvironmentMissingError, UsageError

if TYPE_CHECKING:
    from daglab._config_models import CloudStorageSettings

#: URL scheme -> (fsspec protocol, the package that provides it).
SCHEMES: dict[str, tuple[str, str]] = {
    "s3": ("s3", "s3fs"),
    "gs": ("gcs", "gcsfs"),
    "gcs": ("gcs", "gcsfs"),
    "az": ("az", "adlfs"),
    "abfs": ("az", "adlfs"),
}
#: ``export.cloud_storage.provider`` -> URL scheme.
PROVIDERS = {"s3": "s3", "gcs": "gs", "azure": "az"}
#: Signed URLs last a week: the longest an S3 SigV4 presigned URL may live.
SIGNED_URL_SECONDS = 7 * 86400
#: Multipart chunk size on S3/GCS: progress moves at least once per chunk.
CHUNK_BYTES = 8 * 2**20
#: Credentials the storage libraries read that daglab's own redaction would not recognise.
CREDENTIAL_VARIABLES = (
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AZURE_STORAGE_KEY",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_CLIENT_SECRET",
)
INSTALL_CLOUD = "pip install 'daglab[cloud]'"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Destination:
    """Where uploads go: ``scheme://bucket/prefix``."""

    scheme: str
    bucket: str
    prefix: str = ""

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.bucket}/{self.prefix}".rstrip("/")

    @property
    def protocol(self) -> str:
        return SCHEMES[self.scheme][0]

    @property
    def package(self) -> str:
        return SCHEMES[self.scheme][1]

    def object_key(self, filename: str) -> str:
        """The key inside the bucket for a file called ``filename``."""
        prefix = self.prefix.strip("/")
        if prefix.endswith(EXPORT_SUFFIXES):
            return prefix
        return f"{prefix}/{filename}" if prefix else filename


def parse_destination(text: str) -> Destination:
    """``s3://bucket/prefix`` (or ``gs://``, ``az://``) -> Destination; bad input exits 2."""
    from urllib.parse import urlsplit

    scheme, sep, rest = text.strip().partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in SCHEMES:
        shown = f"{scheme}://" if sep else repr(text)
        raise UsageError(
            f"--upload {text!r}: unknown storage {shown}",
            remediation="Use s3://BUCKET/PREFIX, gs://BUCKET/PREFIX or az://CONTAINER/PREFIX.",
        )
    parts = urlsplit(f"{scheme}://{rest}")
    bucket = parts.netloc
    if not bucket or parts.query or parts.fragment:
        raise UsageError(
            f"--upload {text!r} names no bucket"
            if not bucket
            else f"--upload {text!r}: a storage URL takes no ?query or #fragment",
            remediation=f"Use {scheme}://BUCKET/PREFIX, e.g. {scheme}://my-bucket/exports.",
        )
    return Destination(scheme, bucket, parts.path.strip("/"))


def configured_destination(settings: CloudStorageSettings) -> Destination | None:
    """``export.cloud_storage`` as a destination; None when the provider is ``none``."""
    if settings.provider == "none":
        return None
    if not settings.bucket:
        from daglab._errors import ConfigError

        raise ConfigError(
            f"export.cloud_storage.provider is {settings.provider!r} but no bucket is set",
            remediation="Set export.cloud_storage.bucket in daglab.yaml, or provider: none.",
        )
    return Destination(PROVIDERS[settings.provider], settings.bucket, settings.prefix.strip("/"))


@dataclass(frozen=True)
class Uploaded:
    """An uploaded export: the object's URL and, when the storage could sign it, a link."""

    url: str
    size: int
    seconds: float
    signed_url: str | None = None
    expires_at: float | None = None
    sign_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "size": self.size,
            "seconds": round(self.seconds, 3),
            "signed_url": self.signed_url,
            "expires_at": iso_utc(self.expires_at) if self.expires_at is not None else None,
            "sign_error": self.sign_error,
        }


def iso_utc(epoch: float) -> str:
    """``epoch`` as an ISO 8601 time in UTC, to the second."""
    from datetime import datetime, timezone

    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")


def check_available(destination: Destination) -> None:
    """Fail (exit 3) now, before any work, when the storage's fsspec package is missing."""
    try:
        import fsspec  # type: ignore[import-untyped]
    except ImportError as exc:
        raise EnvironmentMissingError(
            "uploading needs fsspec, which is not installed", remediation=INSTALL_CLOUD
        ) from exc
    try:
        fsspec.get_filesystem_class(destination.protocol)
    except ImportError as exc:
        raise EnvironmentMissingError(
            f"uploading to {destination.scheme}:// needs {destination.package}, which is not"
            " installed",
            remediation=INSTALL_CLOUD,
        ) from exc


def filesystem(destination: Destination) -> Any:
    """The fsspec filesystem for ``destination``; a missing package exits 3."""
    from daglab._logging import register_secret

    for name in CREDENTIAL_VARIABLES:
        register_secret(os.environ.get(name))
    check_available(destination)
    import fsspec

    try:
        return fsspec.filesystem(destination.protocol, skip_instance_cache=True)
    except Exception as exc:  # a storage library's own configuration error
        raise ConnectivityError(
            f"cannot set up {destination.scheme}:// storage: {_storage_error(exc)}",
            remediation="Check the storage's settings and credentials in the environment.",
        ) from exc


def _put_options(destination: Destination, compressed: bool) -> dict[str, Any]:
    """Per-storage keywords of ``put_file``: content type, encoding and chunk size."""
    if destination.protocol == "s3":
        options: dict[str, Any] = {"ContentType": "text/html", "chunksize": CHUNK_BYTES}
        if compressed:
            options["ContentEncoding"] = "gzip"
        return options
    if destination.protocol == "gcs":
        options = {"content_type": "text/html", "chunksize": CHUNK_BYTES}
        if compressed:
            options["fixed_key_metadata"] = {"content_encoding": "gzip"}
        return options
    return {}


def _storage_error(exc: BaseException) -> str:
    from daglab._logging import redact

    text = str(exc).strip() or type(exc).__name__
    return redact(f"{type(exc).__name__}: {text}")


def upload(
    path: Path,
    destination: Destination,
    *,
    on_progress: Progress | None = None,
) -> Uploaded:
    """Upload ``path`` to ``destination`` and sign a URL for it.

    ``on_progress(sent, total)`` is called as bytes go out. A failed upload exits 5 with the
    storage's own error; a storage that cannot sign URLs leaves ``signed_url`` empty and says
    why in ``sign_error``.
    """
    fs = filesystem(destination)
    from fsspec.callbacks import Callback  # type: ignore[import-untyped]

    class _Reporter(Callback):  # type: ignore[misc]
        def call(self, *args: Any, **kwargs: Any) -> None:
            if on_progress is not None and self.size:
                on_progress(int(self.value), int(self.size))

    key = destination.object_key(path.name)
    remote = f"{destination.bucket}/{key}"
    url = f"{destination.scheme}://{remote}"
    size = path.stat().st_size
    started = time.perf_counter()
    try:
        fs.put_file(
            str(path),
            remote,
            callback=_Reporter(),
            **_put_options(destination, path.name.endswith(".gz")),
        )
    except Exception as exc:
        raise ConnectivityError(
            f"uploading {path.name} to {url} failed: {_storage_error(exc)}",
            remediation=f"Check that the bucket {destination.bucket!r} exists and that the"
            f" credentials in the environment may write to it (for S3: AWS_ACCESS_KEY_ID,"
            " AWS_SECRET_ACCESS_KEY or AWS_PROFILE; AWS_ENDPOINT_URL_S3 for another endpoint).",
        ) from exc
    seconds = time.perf_counter() - started
    if on_progress is not None:
        on_progress(size, size)
    try:
        signed = str(fs.sign(remote, expiration=SIGNED_URL_SECONDS))
    except Exception as exc:
        return Uploaded(url, size, seconds, sign_error=_storage_error(exc))
    return Uploaded(url, size, seconds, signed, time.time() + SIGNED_URL_SECONDS)
