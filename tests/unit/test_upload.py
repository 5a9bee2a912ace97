"""Upload destinations: parsing, object keys, the config default and missing packages."""

from __future__ import annotations

import importlib.util
import re

import pytest

from daglab._config_models import CloudStorageSettings
from daglab._errors import ConfigError, EnvironmentMissingError, UsageError
from daglab._upload import (
    Destination,
    check_available,
    configured_destination,
    parse_destination,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("s3://bucket/prefix", Destination("s3", "bucket", "prefix")),
        ("s3://bucket", Destination("s3", "bucket", "")),
        ("S3://bucket/a/b/", Destination("s3", "bucket", "a/b")),
        ("gs://bucket/x", Destination("gs", "bucket", "x")),
        ("gcs://bucket/x", Destination("gcs", "bucket", "x")),
        ("az://container/x", Destination("az", "container", "x")),
        ("abfs://container/x", Destination("abfs", "container", "x")),
    ],
)
def test_destinations_parse(text: str, expected: Destination) -> None:
    assert parse_destination(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ftp://host/x", "unknown storage ftp://"),
        ("http://host/x", "unknown storage http://"),
        ("bucket/prefix", "unknown storage 'bucket/prefix'"),
        ("s3:///prefix", "names no bucket"),
        ("s3://bucket/x?versionId=3", "takes no ?query"),
    ],
)
def test_bad_destinations_are_usage_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)) as caught:
        parse_destination(text)
    assert caught.value.exit_code == 2
    assert "s3://" in caught.value.remediation


def test_object_keys_put_the_file_under_the_prefix_unless_the_url_names_it() -> None:
    assert Destination("s3", "b", "exports/team").object_key("nb.html") == "exports/team/nb.html"
    assert Destination("s3", "b", "").object_key("nb.html.gz") == "nb.html.gz"
    assert Destination("s3", "b", "share/latest.html").object_key("nb.html") == "share/latest.html"
    assert Destination("gs", "b", "p").url == "gs://b/p"
    assert Destination("s3", "b", "").url == "s3://b"


def test_the_configured_destination() -> None:
    assert configured_destination(CloudStorageSettings()) is None
    settings = CloudStorageSettings(provider="gcs", bucket="team-bucket", prefix="/daglab-exports/")
    assert configured_destination(settings) == Destination("gs", "team-bucket", "daglab-exports")
    azure = CloudStorageSettings(provider="azure", bucket="box")
    assert configured_destination(azure) == Destination("az", "box", "daglab-exports")
    with pytest.raises(ConfigError, match="no bucket is set"):
        configured_destination(CloudStorageSettings(provider="s3"))


def test_s3_is_available_in_the_dev_environment() -> None:
    check_available(Destination("s3", "bucket"))  # s3fs is a dev dependency


def test_a_missing_filesystem_package_is_exit_3_with_the_extra() -> None:
    missing = [
        scheme
        for scheme, package in (("gs", "gcsfs"), ("az", "adlfs"))
        if importlib.util.find_spec(package) is None
    ]
    if not missing:
        pytest.skip("gcsfs and adlfs are both installed here; no missing package to detect")
    with pytest.raises(EnvironmentMissingError, match="which is not installed") as caught:
        check_available(Destination(missing[0], "bucket"))
    assert caught.value.exit_code == 3
    assert caught.value.remediation == "pip install 'daglab[cloud]'"
