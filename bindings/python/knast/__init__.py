"""knast: run Docker/OCI images in FreeBSD jails, from Python.

The core value types (Reference, Digest, Hasher, DigestVerifier, Platform,
PlatformMatcher, and the OCI documents Descriptor, Manifest, Index, ImageConfig) and the
image store (ImageStore, an OCI image layout on disk), the registry client (Registry) and
the root filesystem cache (Rootfs, apply_layer, pull_and_unpack). Every failure raises a
subclass of knast.Error.
"""

from . import errors
from .errors import *  # noqa: F401,F403  (the exception classes are part of the API)
from ._knast import (  # noqa: F401
    ApplyOptions,
    ApplyReport,
    ChainInfo,
    ContainerRootfs,
    LayerCompression,
    LayerDiff,
    PruneReport,
    PullUnpackResult,
    Rootfs,
    SnapshotDriver,
    UnpackResult,
    apply_layer,
    chain_id,
    pull_and_unpack,
    write_layer_diff,
    ClientCertificate,
    Credentials,
    Progress,
    PullResult,
    PushResult,
    Registry,
    ResolvedManifest,
    TransferState,
    ContainerConfig,
    Descriptor,
    Digest,
    DigestVerifier,
    GcReport,
    Hasher,
    HistoryEntry,
    ImageConfig,
    ImageStore,
    ImageSummary,
    Index,
    Manifest,
    Platform,
    PlatformMatcher,
    Reference,
    ResolvedImage,
    VerifyProblem,
    VerifyReport,
    default_state_root,
    validate_document,
    version,
)

__version__ = version()

__all__ = [
    "ApplyOptions", "ApplyReport", "ChainInfo", "ContainerRootfs", "LayerCompression", "LayerDiff",
    "PruneReport", "PullUnpackResult", "Rootfs", "SnapshotDriver", "UnpackResult", "apply_layer",
    "chain_id", "pull_and_unpack", "write_layer_diff",
    "ClientCertificate", "Credentials", "Progress", "PullResult", "PushResult", "Registry",
    "ResolvedManifest", "TransferState",
    "ContainerConfig", "Descriptor", "Digest", "DigestVerifier", "GcReport", "Hasher",
    "HistoryEntry", "ImageConfig", "ImageStore", "ImageSummary", "Index", "Manifest", "Platform",
    "PlatformMatcher", "Reference", "ResolvedImage", "VerifyProblem", "VerifyReport",
    "default_state_root", "validate_document", "version", "errors",
] + errors.__all__
