"""knast: run Docker/OCI images in FreeBSD jails, from Python.

The core value types (Reference, Digest, Hasher, DigestVerifier, Platform,
PlatformMatcher, and the OCI documents Descriptor, Manifest, Index, ImageConfig), the
image store (ImageStore, an OCI image layout on disk), the registry client and the
Linuxulator (decide_run, brand_tree, make_linux_emulation_plan, prepare_linux_root,
preflight). Every failure raises a subclass of knast.Error.
"""

from . import errors
from .errors import *  # noqa: F401,F403  (the exception classes are part of the API)
from ._knast import (  # noqa: F401
    BrandReport,
    BrandSkip,
    DevfsRule,
    DevfsRuleset,
    HostFacts,
    KernelFacts,
    KernelModule,
    LinuxEmulationOptions,
    LinuxEmulationPlan,
    MountStep,
    PreflightReport,
    RootFile,
    RunDecision,
    RunMethod,
    brand_tree,
    choose_image_platform,
    decide_run,
    default_brand_record,
    make_linux_emulation_plan,
    preflight,
    prepare_linux_root,
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
    "ClientCertificate", "Credentials", "Progress", "PullResult", "PushResult", "Registry",
    "ResolvedManifest", "TransferState",
    "ContainerConfig", "Descriptor", "Digest", "DigestVerifier", "GcReport", "Hasher",
    "HistoryEntry", "ImageConfig", "ImageStore", "ImageSummary", "Index", "Manifest", "Platform",
    "PlatformMatcher", "Reference", "ResolvedImage", "VerifyProblem", "VerifyReport",
    "default_state_root", "validate_document", "version", "errors",
    "BrandReport", "BrandSkip", "DevfsRule", "DevfsRuleset", "HostFacts", "KernelFacts", "KernelModule",
    "LinuxEmulationOptions", "LinuxEmulationPlan", "MountStep", "PreflightReport", "RootFile", "RunDecision",
    "RunMethod", "brand_tree", "choose_image_platform", "decide_run", "default_brand_record",
    "make_linux_emulation_plan", "preflight", "prepare_linux_root",
] + errors.__all__
