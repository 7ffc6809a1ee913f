/**
 * @file knast.h
 * @brief The stable C ABI of libknast.
 *
 * Conventions (docs/c-guide.md has the long form):
 * - Every fallible call returns a ::knast_status: ::KNAST_OK (0) or a negative code.
 *   knast_last_error() then describes the failure for the calling thread.
 * - Objects are opaque handles made by the library (`knast_X_parse`, `knast_X_new`) and
 *   released by the caller with `knast_X_free`, which accepts NULL.
 * - Getters return borrowed strings that stay valid until their handle is freed.
 *   Strings the caller owns come back through `char **out` and are released with
 *   knast_string_free().
 * - `out` parameters come first. No C++ type, exception or `bool` crosses this header.
 */
#ifndef KNAST_H
#define KNAST_H

#include <stddef.h>
#include <stdint.h>

#if defined(KNAST_STATIC_DEFINE)
#define KNAST_EXTERN
#else
/** Marks a function exported by libknast. */
#define KNAST_EXTERN __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Result of a knast call: #KNAST_OK or one of the negative codes below. */
typedef int knast_status;

/** Status codes. Values never change; new codes are only ever added. */
enum knast_status_code {
  KNAST_OK = 0,             /**< Success. */
  KNAST_ERROR = -1,         /**< Internal error (a bug in knast). */
  KNAST_EINVALID = -2,      /**< Malformed input: a bad reference, digest or document. */
  KNAST_ENOTFOUND = -3,     /**< The named thing does not exist. */
  KNAST_EEXISTS = -4,       /**< The thing to be created exists already. */
  KNAST_EPERM = -5,         /**< The OS or a registry refused the operation. */
  KNAST_EUNSUPPORTED = -6,  /**< Valid input this build or host cannot handle. */
  KNAST_ENETWORK = -7,      /**< A transport failure talking to a remote. */
  KNAST_EAUTH = -8,         /**< Authentication with a registry failed. */
  KNAST_EINTEGRITY = -9,    /**< Content did not match its digest or size. */
  KNAST_ECANCELLED = -10,   /**< The caller cancelled the operation. */
  KNAST_EBUSY = -11,        /**< A lock or resource is held by someone else. */
  KNAST_ELIMIT = -12,       /**< A size or count limit was reached. */
  KNAST_EIO = -13,          /**< An operating-system call failed. */
  KNAST_ENOMEM = -14,       /**< Out of memory. */
  KNAST_ETIMEDOUT = -15     /**< A wait ended before what it waited for (knast_jail_wait()). */
};

/** What went wrong in the last failed call on this thread. */
typedef struct knast_error {
  knast_status status; /**< The code the failed call returned. */
  int sys_errno;       /**< errno of an OS failure, else 0. */
  const char *message; /**< Human-readable message; never NULL. */
} knast_error;

/**
 * The last error of the calling thread. Never NULL: with no error recorded it has status
 * #KNAST_OK and the message "no error". Valid until the thread's next knast call.
 */
KNAST_EXTERN const knast_error *knast_last_error(void);

/** The short name of a status code ("invalid_argument", "not_found", ...). Never NULL. */
KNAST_EXTERN const char *knast_status_name(knast_status status);

/** The version of the loaded library, "major.minor.patch". */
KNAST_EXTERN const char *knast_version(void);

/** Releases a string returned through a `char **out` parameter. NULL is a no-op. */
KNAST_EXTERN void knast_string_free(char *str);

/* ---- References ------------------------------------------------------------------- */

/** A parsed, normalised image reference. */
typedef struct knast_reference knast_reference;

/**
 * Parses and normalises @p text ("alpine" → "docker.io/library/alpine:latest").
 * @return #KNAST_OK, or #KNAST_EINVALID with the reason in knast_last_error().
 */
KNAST_EXTERN knast_status knast_reference_parse(knast_reference **out, const char *text);
/** Frees a reference. NULL is a no-op. */
KNAST_EXTERN void knast_reference_free(knast_reference *ref);
/** Full normalised form: "docker.io/library/alpine:latest". Borrowed. */
KNAST_EXTERN const char *knast_reference_string(const knast_reference *ref);
/** Domain and path: "docker.io/library/alpine". Borrowed. */
KNAST_EXTERN const char *knast_reference_name(const knast_reference *ref);
/** Registry domain: "docker.io", "localhost:5000". Borrowed. */
KNAST_EXTERN const char *knast_reference_domain(const knast_reference *ref);
/** Repository path: "library/alpine". Borrowed. */
KNAST_EXTERN const char *knast_reference_path(const knast_reference *ref);
/** The tag, or NULL when the reference has none. Borrowed. */
KNAST_EXTERN const char *knast_reference_tag(const knast_reference *ref);
/** The digest ("sha256:…"), or NULL when the reference has none. Borrowed. */
KNAST_EXTERN const char *knast_reference_digest(const knast_reference *ref);
/** The short form docker displays: "alpine:latest". Borrowed. */
KNAST_EXTERN const char *knast_reference_familiar(const knast_reference *ref);

/* ---- Digests ---------------------------------------------------------------------- */

/** Digest algorithms. */
enum knast_digest_algorithm {
  KNAST_DIGEST_SHA256 = 1, /**< sha256 */
  KNAST_DIGEST_SHA512 = 2  /**< sha512 */
};

/** A validated content digest ("sha256:…"). */
typedef struct knast_digest knast_digest;

/**
 * Parses and validates @p text.
 * @return #KNAST_OK, #KNAST_EINVALID (malformed) or #KNAST_EUNSUPPORTED (other algorithm).
 */
KNAST_EXTERN knast_status knast_digest_parse(knast_digest **out, const char *text);
/** The digest of @p size bytes at @p data, with @p algorithm (a ::knast_digest_algorithm). */
KNAST_EXTERN knast_status knast_digest_of(knast_digest **out, uint32_t algorithm, const void *data, size_t size);
/** Frees a digest. NULL is a no-op. */
KNAST_EXTERN void knast_digest_free(knast_digest *digest);
/** "algorithm:hex". Borrowed. */
KNAST_EXTERN const char *knast_digest_string(const knast_digest *digest);
/** The hex part. Borrowed. */
KNAST_EXTERN const char *knast_digest_hex(const knast_digest *digest);
/** The algorithm, a ::knast_digest_algorithm value. */
KNAST_EXTERN uint32_t knast_digest_algorithm_of(const knast_digest *digest);

/** A streaming hasher. */
typedef struct knast_hasher knast_hasher;

/** Starts hashing with @p algorithm (a ::knast_digest_algorithm). */
KNAST_EXTERN knast_status knast_hasher_new(knast_hasher **out, uint32_t algorithm);
/** Feeds @p size bytes at @p data. */
KNAST_EXTERN knast_status knast_hasher_update(knast_hasher *hasher, const void *data, size_t size);
/** Ends hashing and returns the digest; the hasher cannot be fed afterwards. */
KNAST_EXTERN knast_status knast_hasher_finish(knast_digest **out, knast_hasher *hasher);
/** Frees a hasher. NULL is a no-op. */
KNAST_EXTERN void knast_hasher_free(knast_hasher *hasher);

/* ---- Platforms -------------------------------------------------------------------- */

/** The host's platform, e.g. "linux/amd64" or "freebsd/arm64". Free with knast_string_free(). */
KNAST_EXTERN knast_status knast_platform_host(char **out);
/** Normalises a platform string ("Linux/x86_64" → "linux/amd64"). Free with knast_string_free(). */
KNAST_EXTERN knast_status knast_platform_normalize(char **out, const char *text);
/**
 * Sets @p *out to 1 when an image built for @p candidate can run where @p wanted is asked
 * for (containerd's rules: arm64 runs arm v8..v5, amd64 runs 386, ...), else 0.
 */
KNAST_EXTERN knast_status knast_platform_matches(int *out, const char *wanted, const char *candidate);

/* ---- Documents -------------------------------------------------------------------- */

/** Kinds of OCI document knast validates. */
enum knast_document_kind {
  KNAST_DOCUMENT_MANIFEST = 1, /**< OCI image manifest or Docker schema 2 manifest. */
  KNAST_DOCUMENT_INDEX = 2,    /**< OCI image index or Docker manifest list. */
  KNAST_DOCUMENT_CONFIG = 3    /**< Image configuration. */
};

/**
 * Validates @p size bytes at @p data as a document of @p kind (a ::knast_document_kind)
 * with the same strict rules the library applies to what it pulls.
 * @param summary if not NULL, receives a one-line summary of a valid document; free it
 *        with knast_string_free().
 * @param kind a ::knast_document_kind value.
 * @param data the document's bytes (need not be NUL-terminated).
 * @param size the number of bytes at @p data.
 * @return #KNAST_OK, #KNAST_EINVALID, #KNAST_EUNSUPPORTED (unknown media type) or
 *         #KNAST_ELIMIT (document over its size limit).
 */
KNAST_EXTERN knast_status knast_document_validate(char **summary, uint32_t kind, const void *data, size_t size);

/* ---- Image store -------------------------------------------------------------------- */

/** An OCI image layout on disk (see knast::ImageStore). Safe to share between threads. */
typedef struct knast_image_store knast_image_store;

/** knast_store_options::flags: fail with #KNAST_ENOTFOUND unless a layout already exists. */
#define KNAST_STORE_MUST_EXIST 0x1u

/** Options of knast_image_store_open(). Initialise with #KNAST_STORE_OPTIONS_INIT. */
typedef struct knast_store_options {
  unsigned int version; /**< #KNAST_STORE_OPTIONS_VERSION */
  uint32_t flags;       /**< KNAST_STORE_* flags. */
} knast_store_options;

/** The current version of ::knast_store_options. */
#define KNAST_STORE_OPTIONS_VERSION 1
/** Default ::knast_store_options. */
#define KNAST_STORE_OPTIONS_INIT {KNAST_STORE_OPTIONS_VERSION, 0}

/** Fills @p opts with the defaults of @p version. @return #KNAST_EINVALID for an unknown version. */
KNAST_EXTERN knast_status knast_store_options_init(knast_store_options *opts, unsigned int version);

/**
 * Opens (or, without #KNAST_STORE_MUST_EXIST, creates) the image store at @p root.
 * A folder that is not empty and not an OCI layout is refused with #KNAST_EINVALID.
 * @param opts NULL for the defaults.
 */
KNAST_EXTERN knast_status knast_image_store_open(knast_image_store **out, const char *root,
                                                 const knast_store_options *opts);
/** Closes a store. NULL is a no-op. */
KNAST_EXTERN void knast_image_store_free(knast_image_store *store);

/** A snapshot of the named images of a store. */
typedef struct knast_image_list knast_image_list;

/** Lists the named images of @p store, sorted by name. */
KNAST_EXTERN knast_status knast_image_store_list(knast_image_list **out, knast_image_store *store);
/** Number of images in @p list. */
KNAST_EXTERN size_t knast_image_list_count(const knast_image_list *list);
/** Full normalised name of image @p i, or NULL when @p i is out of range. Borrowed. */
KNAST_EXTERN const char *knast_image_list_name(const knast_image_list *list, size_t i);
/** Digest of the manifest or index image @p i names. Borrowed. */
KNAST_EXTERN const char *knast_image_list_digest(const knast_image_list *list, size_t i);
/** Platforms of image @p i, comma-separated ("linux/amd64,linux/arm64"). Borrowed. */
KNAST_EXTERN const char *knast_image_list_platforms(const knast_image_list *list, size_t i);
/** Creation time of image @p i as written in its config (RFC 3339), or NULL. Borrowed. */
KNAST_EXTERN const char *knast_image_list_created(const knast_image_list *list, size_t i);
/** Size in bytes of image @p i (config and layers), or -1 when @p i is out of range. */
KNAST_EXTERN int64_t knast_image_list_size(const knast_image_list *list, size_t i);
/** Frees a list. NULL is a no-op. */
KNAST_EXTERN void knast_image_list_free(knast_image_list *list);

/** Names @p source (a name or a digest of a manifest or index in the store) also @p target. */
KNAST_EXTERN knast_status knast_image_store_tag(knast_image_store *store, const char *source, const char *target);
/** Removes the name @p name only; the blobs stay until garbage collection. */
KNAST_EXTERN knast_status knast_image_store_untag(knast_image_store *store, const char *name);
/** Removes the name @p name and every blob nothing else references. */
KNAST_EXTERN knast_status knast_image_store_remove(knast_image_store *store, const char *name);

/**
 * Resolves @p name_or_digest (choosing from an index with @p platform, or the host's when
 * NULL) and returns a JSON object {"name", "digest", "manifest", "config"} describing the
 * image. Free with knast_string_free().
 */
KNAST_EXTERN knast_status knast_image_store_inspect(char **json, knast_image_store *store,
                                                    const char *name_or_digest, const char *platform);

/**
 * Removes unreachable blobs (or, with @p dry_run nonzero, only counts them).
 * @param blobs_removed if not NULL, receives how many blobs were (or would be) removed.
 * @param bytes_freed if not NULL, receives their total size.
 */
KNAST_EXTERN knast_status knast_image_store_gc(size_t *blobs_removed, uint64_t *bytes_freed,
                                               knast_image_store *store, int dry_run);

/**
 * Rehashes every blob. @p problems receives the number of problems found (0: sound);
 * @p report, if not NULL, one line per problem (free with knast_string_free()).
 */
KNAST_EXTERN knast_status knast_image_store_verify(size_t *problems, char **report, knast_image_store *store);

/** Archive formats of knast_image_store_save(). */
enum knast_archive_format {
  KNAST_ARCHIVE_DOCKER = 1, /**< `docker save` layout. */
  KNAST_ARCHIVE_OCI = 2     /**< A tar of an OCI image layout. */
};

/**
 * Loads a `docker save` or OCI archive. @p names, if not NULL, receives the loaded names,
 * one per line (free with knast_string_free()).
 */
KNAST_EXTERN knast_status knast_image_store_load(char **names, knast_image_store *store, const char *archive);
/** Writes @p count images named in @p names to @p archive in @p format (a ::knast_archive_format). */
KNAST_EXTERN knast_status knast_image_store_save(knast_image_store *store, const char *const *names, size_t count,
                                                 const char *archive, uint32_t format);

/** Options of knast_image_store_import(). Initialise with #KNAST_IMPORT_OPTIONS_INIT. */
typedef struct knast_import_options {
  unsigned int version;       /**< #KNAST_IMPORT_OPTIONS_VERSION */
  const char *const *changes; /**< Dockerfile-style changes ("CMD [\"sh\"]", "ENV A=b", ...). */
  size_t change_count;        /**< Number of entries in @ref changes. */
  const char *platform;       /**< "os/arch[/variant]", or NULL for the host's. */
  const char *comment;        /**< History comment, or NULL. */
} knast_import_options;

/** The current version of ::knast_import_options. */
#define KNAST_IMPORT_OPTIONS_VERSION 1
/** Default ::knast_import_options. */
#define KNAST_IMPORT_OPTIONS_INIT {KNAST_IMPORT_OPTIONS_VERSION, NULL, 0, NULL, NULL}

/** Fills @p opts with the defaults of @p version. @return #KNAST_EINVALID for an unknown version. */
KNAST_EXTERN knast_status knast_import_options_init(knast_import_options *opts, unsigned int version);

/**
 * Imports a root filesystem tarball as a one-layer image named @p name, like
 * `docker import`. @p digest, if not NULL, receives the manifest digest (free with
 * knast_string_free()). @param opts NULL for the defaults.
 */
KNAST_EXTERN knast_status knast_image_store_import(char **digest, knast_image_store *store, const char *tarball,
                                                   const char *name, const knast_import_options *opts);

/* ---- Registry ----------------------------------------------------------------------- */

/** A client of OCI distribution registries (see knast::Registry). Safe to share between threads. */
typedef struct knast_registry knast_registry;

/** Credentials for one registry. */
typedef struct knast_credential {
  const char *registry;       /**< "docker.io", "localhost:5000". */
  const char *username;       /**< User name, or NULL. */
  const char *password;       /**< Password or access token, or NULL. */
  const char *identity_token; /**< OAuth2 refresh token (docker's identitytoken), or NULL. */
} knast_credential;

/** One registry mirror. */
typedef struct knast_mirror {
  const char *registry; /**< The registry mirrored: "docker.io". */
  const char *endpoint; /**< The mirror: "https://mirror.example" or "localhost:5001". */
} knast_mirror;

/** Options of knast_registry_new(). Initialise with #KNAST_REGISTRY_OPTIONS_INIT. */
typedef struct knast_registry_options {
  unsigned int version;                   /**< #KNAST_REGISTRY_OPTIONS_VERSION */
  const char *docker_config;              /**< docker config.json path, or NULL for the default. */
  int ignore_docker_config;               /**< Nonzero: use only @ref credentials. */
  const knast_credential *credentials;    /**< Explicit credentials; they win over the docker config. */
  size_t credential_count;                /**< Entries in @ref credentials. */
  const char *const *insecure_registries; /**< Registries that may be reached over plain HTTP. */
  size_t insecure_registry_count;         /**< Entries in @ref insecure_registries. */
  const knast_mirror *mirrors;            /**< Mirrors tried before their registry when pulling. */
  size_t mirror_count;                    /**< Entries in @ref mirrors. */
  const char *ca_file;                    /**< PEM bundle to trust instead of the system's, or NULL. */
  const char *client_certificate;         /**< PEM client certificate, or NULL. */
  const char *client_key;                 /**< Its PEM private key, or NULL. */
  uint32_t jobs;                          /**< Blobs transferred at once; 0 for the default (3). */
  uint32_t retries;                       /**< Retries after a failed attempt; UINT32_MAX for the default (3). */
  uint32_t connect_timeout_ms;            /**< Connection timeout; 0 for the default (30 s). */
  const char *user_agent;                 /**< User-Agent, or NULL for "knast/VERSION". */
} knast_registry_options;

/** The current version of ::knast_registry_options. */
#define KNAST_REGISTRY_OPTIONS_VERSION 1
/** Default ::knast_registry_options. */
#define KNAST_REGISTRY_OPTIONS_INIT \
  {KNAST_REGISTRY_OPTIONS_VERSION, NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL, NULL, NULL, 0, UINT32_MAX, 0, NULL}

/** Fills @p opts with the defaults of @p version. @return #KNAST_EINVALID for an unknown version. */
KNAST_EXTERN knast_status knast_registry_options_init(knast_registry_options *opts, unsigned int version);

/** Makes a registry client. Nothing is contacted until needed. @param opts NULL for the defaults. */
KNAST_EXTERN knast_status knast_registry_new(knast_registry **out, const knast_registry_options *opts);
/** Frees a registry client. NULL is a no-op. */
KNAST_EXTERN void knast_registry_free(knast_registry *registry);

/** States of a blob transfer (::knast_progress::state). */
enum knast_transfer_state {
  KNAST_TRANSFER_QUEUED = 0,       /**< Waiting for a free job. */
  KNAST_TRANSFER_TRANSFERRING = 1, /**< Bytes are moving. */
  KNAST_TRANSFER_SKIPPED = 2,      /**< Already present. */
  KNAST_TRANSFER_MOUNTED = 3,      /**< Pushing: mounted from another repository. */
  KNAST_TRANSFER_DONE = 4          /**< Transferred and verified. */
};

/** One progress report: a blob, and the whole operation. Valid only during the callback. */
typedef struct knast_progress {
  const char *digest;        /**< The blob. */
  const char *media_type;    /**< Its media type. */
  uint32_t state;            /**< A ::knast_transfer_state. */
  uint64_t bytes_done;       /**< Its bytes transferred (or present). */
  uint64_t bytes_total;      /**< Its size. */
  uint64_t total_bytes_done; /**< All blobs' bytes transferred or present. */
  uint64_t total_bytes;      /**< All blobs' sizes. */
  size_t blobs_done;         /**< Blobs done, skipped or mounted. */
  size_t blobs_total;        /**< Blobs in the operation. */
} knast_progress;

/**
 * Receives progress on the thread that called knast_registry_pull() or _push(), never two
 * at once. Returning nonzero cancels the operation with #KNAST_ECANCELLED.
 */
typedef int (*knast_progress_cb)(const knast_progress *progress, void *payload);

/** Options of knast_registry_pull(). Initialise with #KNAST_PULL_OPTIONS_INIT. */
typedef struct knast_pull_options {
  unsigned int version;       /**< #KNAST_PULL_OPTIONS_VERSION */
  const char *platform;       /**< "os/arch[/variant]" to pick from an index, or NULL for the host's. */
  int all_platforms;          /**< Nonzero: pull every platform of an index. */
  uint32_t jobs;              /**< Blobs at once; 0 for the registry's setting. */
  knast_progress_cb progress; /**< Progress callback, or NULL. */
  void *payload;              /**< Passed to @ref progress. */
} knast_pull_options;

/** The current version of ::knast_pull_options. */
#define KNAST_PULL_OPTIONS_VERSION 1
/** Default ::knast_pull_options. */
#define KNAST_PULL_OPTIONS_INIT {KNAST_PULL_OPTIONS_VERSION, NULL, 0, 0, NULL, NULL}

/** Fills @p opts with the defaults of @p version. @return #KNAST_EINVALID for an unknown version. */
KNAST_EXTERN knast_status knast_pull_options_init(knast_pull_options *opts, unsigned int version);

/**
 * Pulls @p reference into @p store and names it there. @p digest, if not NULL, receives
 * the digest of what the name now points at (free with knast_string_free()). A failed or
 * cancelled pull names nothing. @param opts NULL for the defaults.
 */
KNAST_EXTERN knast_status knast_registry_pull(char **digest, knast_registry *registry, knast_image_store *store,
                                              const char *reference, const knast_pull_options *opts);

/** Options of knast_registry_push(). Initialise with #KNAST_PUSH_OPTIONS_INIT. */
typedef struct knast_push_options {
  unsigned int version;       /**< #KNAST_PUSH_OPTIONS_VERSION */
  const char *platform;       /**< Push only this platform of an index, or NULL for all. */
  uint32_t jobs;              /**< Blobs at once; 0 for the registry's setting. */
  uint64_t chunk_size;        /**< Upload in chunks of this size; 0 for one request per blob. */
  int no_mount;               /**< Nonzero: never mount blobs from another repository. */
  knast_progress_cb progress; /**< Progress callback, or NULL. */
  void *payload;              /**< Passed to @ref progress. */
} knast_push_options;

/** The current version of ::knast_push_options. */
#define KNAST_PUSH_OPTIONS_VERSION 1
/** Default ::knast_push_options. */
#define KNAST_PUSH_OPTIONS_INIT {KNAST_PUSH_OPTIONS_VERSION, NULL, 0, 0, 0, NULL, NULL}

/** Fills @p opts with the defaults of @p version. @return #KNAST_EINVALID for an unknown version. */
KNAST_EXTERN knast_status knast_push_options_init(knast_push_options *opts, unsigned int version);

/**
 * Pushes the image @p source names in @p store to @p destination. @p digest, if not NULL,
 * receives the digest pushed (free with knast_string_free()). @param opts NULL for the defaults.
 */
KNAST_EXTERN knast_status knast_registry_push(char **digest, knast_registry *registry, knast_image_store *store,
                                              const char *source, const char *destination,
                                              const knast_push_options *opts);

/**
 * Fetches the manifest or index @p reference names. @p digest receives its digest and
 * @p document, if not NULL, its bytes as served (both freed with knast_string_free()).
 */
KNAST_EXTERN knast_status knast_registry_resolve(char **digest, char **document, knast_registry *registry,
                                                 const char *reference);

/** The tags of @p repository, one per line (free with knast_string_free()). */
KNAST_EXTERN knast_status knast_registry_tags(char **tags, knast_registry *registry, const char *repository);

/** Checks credentials against @p registry_name and stores them in the docker config. */
KNAST_EXTERN knast_status knast_registry_login(knast_registry *registry, const char *registry_name,
                                               const char *username, const char *password);

/** Removes @p registry_name's credentials; @p removed, if not NULL, says whether there were any. */
KNAST_EXTERN knast_status knast_registry_logout(int *removed, knast_registry *registry, const char *registry_name);

/* ---- Rootfs ------------------------------------------------------------------------- */

/** Limits and permissions for applying layers. Initialise with #KNAST_APPLY_OPTIONS_INIT. */
typedef struct knast_apply_options {
  unsigned int version;   /**< #KNAST_APPLY_OPTIONS_VERSION */
  uint64_t max_bytes;     /**< Most bytes of file content one apply may write; 0: no cap. */
  uint64_t max_entries;   /**< Most tar entries one apply may process; 0: no cap. */
  int allow_devices;      /**< Nonzero: create device nodes (only when running as root). */
  int owners;             /**< 1: set owners from the layer, 0: never, -1: when running as root. */
  int no_xattrs;          /**< Nonzero: do not restore extended attributes. */
  /**
   * Version 2: a file where the apply lists every regular file it writes and whether it
   * is ELF (knast::ApplyOptions::elf_index), for ::knast_brand_options elf_index; NULL:
   * none. knast_rootfs_open() ignores it: each chain keeps its own.
   */
  const char *elf_index;
} knast_apply_options;

/** The current version of ::knast_apply_options. */
#define KNAST_APPLY_OPTIONS_VERSION 2
/** Default ::knast_apply_options: 64 GiB, 10 million entries, no devices, owners when root. */
#define KNAST_APPLY_OPTIONS_INIT {KNAST_APPLY_OPTIONS_VERSION, UINT64_C(68719476736), 10000000, 0, -1, 0, NULL}

/** Fills @p opts with the defaults of @p version. @return #KNAST_EINVALID for an unknown version. */
KNAST_EXTERN knast_status knast_apply_options_init(knast_apply_options *opts, unsigned int version);

/** What applying a layer did. Fields are only ever appended. */
typedef struct knast_apply_report {
  uint64_t entries;         /**< Tar entries processed (whiteouts included). */
  uint64_t bytes;           /**< Bytes of file content written. */
  uint64_t whiteouts;       /**< Whiteouts and opaque markers applied. */
  uint64_t skipped_devices; /**< Device nodes not created. */
  uint64_t skipped_xattrs;  /**< Extended attributes the file system refused. */
} knast_apply_report;

/**
 * Applies the layer file @p layer (a tar, plain, gzip or zstd) onto the directory @p root,
 * with OCI whiteouts, never writing outside @p root. A refused layer may leave @p root
 * partly applied. @param report if not NULL, receives the counts. @param media_type the
 * layer's media type to check the compression against, or NULL. @param opts NULL for the
 * defaults. @return #KNAST_EINVALID (a hostile or corrupt entry, named in the message),
 * #KNAST_EINTEGRITY, #KNAST_ELIMIT, #KNAST_ENOTFOUND, #KNAST_EIO.
 */
KNAST_EXTERN knast_status knast_apply_layer(knast_apply_report *report, const char *root, const char *layer,
                                            const char *media_type, const knast_apply_options *opts);

/**
 * The OCI chain ID of @p count layers' diff_ids (bottom first). Free @p out with
 * knast_string_free().
 */
KNAST_EXTERN knast_status knast_chain_id(char **out, const char *const *diff_ids, size_t count);

/** Layer compressions for diffs (::knast_rootfs_diff(), ::knast_write_layer_diff()). */
enum knast_layer_compression {
  KNAST_LAYER_NONE = 0, /**< A plain tar. */
  KNAST_LAYER_GZIP = 1, /**< gzip. */
  KNAST_LAYER_ZSTD = 2  /**< zstd. */
};

/**
 * Writes the changes from the tree @p base to the tree @p changed as an OCI layer at
 * @p output, compressed with @p compression (a ::knast_layer_compression). @p digest and
 * @p diff_id, if not NULL, receive the layer's digest and its uncompressed digest (free
 * with knast_string_free()).
 */
KNAST_EXTERN knast_status knast_write_layer_diff(char **digest, char **diff_id, const char *base, const char *changed,
                                                 const char *output, uint32_t compression);

/** The cache of unpacked layer chains and container roots (see knast::Rootfs). */
typedef struct knast_rootfs knast_rootfs;

/** Options of knast_rootfs_open(). Initialise with #KNAST_ROOTFS_OPTIONS_INIT. */
typedef struct knast_rootfs_options {
  unsigned int version;       /**< #KNAST_ROOTFS_OPTIONS_VERSION */
  const char *driver;         /**< "directory", "overlay" or "zfs"; NULL for "directory". */
  const char *zfs_dataset;    /**< zfs: the parent dataset ("zroot/knast"); NULL otherwise. */
  knast_apply_options apply;  /**< Limits and permissions for every layer. */
} knast_rootfs_options;

/** The current version of ::knast_rootfs_options (2: its `apply` member grew). */
#define KNAST_ROOTFS_OPTIONS_VERSION 2
/** Default ::knast_rootfs_options. */
#define KNAST_ROOTFS_OPTIONS_INIT {KNAST_ROOTFS_OPTIONS_VERSION, NULL, NULL, KNAST_APPLY_OPTIONS_INIT}

/** Fills @p opts with the defaults of @p version. @return #KNAST_EINVALID for an unknown version. */
KNAST_EXTERN knast_status knast_rootfs_options_init(knast_rootfs_options *opts, unsigned int version);

/**
 * Opens the chain cache under the state root @p state_root (its rootfs/ and containers/
 * folders are created when missing). @return #KNAST_EUNSUPPORTED for a driver this OS
 * cannot run. @param opts NULL for the defaults.
 */
KNAST_EXTERN knast_status knast_rootfs_open(knast_rootfs **out, const char *state_root,
                                            const knast_rootfs_options *opts);
/** Frees a rootfs handle (nothing on disk changes). NULL is a no-op. */
KNAST_EXTERN void knast_rootfs_free(knast_rootfs *rootfs);

/**
 * Reports the layer about to be applied: @p index of @p count (0-based), its diff_id, and
 * whether it came from the cache.
 */
typedef void (*knast_unpack_cb)(size_t index, size_t count, const char *diff_id, int cached, void *payload);

/** Options of knast_rootfs_unpack(). Initialise with #KNAST_UNPACK_OPTIONS_INIT. */
typedef struct knast_unpack_options {
  unsigned int version;      /**< #KNAST_UNPACK_OPTIONS_VERSION */
  const char *platform;      /**< "os/arch[/variant]" to pick from an index, or NULL for the host's. */
  knast_unpack_cb progress;  /**< Called before each layer, or NULL. */
  void *payload;             /**< Passed to @ref progress. */
} knast_unpack_options;

/** The current version of ::knast_unpack_options. */
#define KNAST_UNPACK_OPTIONS_VERSION 1
/** Default ::knast_unpack_options. */
#define KNAST_UNPACK_OPTIONS_INIT {KNAST_UNPACK_OPTIONS_VERSION, NULL, NULL, NULL}

/** Fills @p opts with the defaults of @p version. @return #KNAST_EINVALID for an unknown version. */
KNAST_EXTERN knast_status knast_unpack_options_init(knast_unpack_options *opts, unsigned int version);

/**
 * Unpacks the image @p image (a name or digest in @p store) into the chain cache, reusing
 * what is cached. @p chain_id receives the chain's ID and @p path, if not NULL, its root
 * tree (free both with knast_string_free()). @param opts NULL for the defaults.
 */
KNAST_EXTERN knast_status knast_rootfs_unpack(char **chain_id, char **path, knast_rootfs *rootfs,
                                              knast_image_store *store, const char *image,
                                              const knast_unpack_options *opts);

/**
 * Pulls @p reference with @p registry into @p store and unpacks it into @p rootfs, applying
 * each layer as soon as it is stored. @p chain_id receives the chain's ID (free with
 * knast_string_free()). @param pull NULL for the defaults (its platform serves both
 * halves). @param unpack NULL for the defaults.
 */
KNAST_EXTERN knast_status knast_pull_and_unpack(char **chain_id, knast_registry *registry, knast_image_store *store,
                                                knast_rootfs *rootfs, const char *reference,
                                                const knast_pull_options *pull, const knast_unpack_options *unpack);

/**
 * The cached chains as a JSON array of {"chain_id", "diff_ids", "path", "size", "created",
 * "containers", "elf_index"} ("elf_index": the chain's ELF index for knast_brand_tree(),
 * or null) (free with knast_string_free()).
 */
KNAST_EXTERN knast_status knast_rootfs_list(char **json, knast_rootfs *rootfs);

/**
 * Removes every chain no container uses (with @p dry_run nonzero, only counts them).
 * @param removed if not NULL, receives the number of chains. @param bytes_freed if not
 * NULL, receives their content bytes.
 */
KNAST_EXTERN knast_status knast_rootfs_prune(size_t *removed, uint64_t *bytes_freed, knast_rootfs *rootfs, int dry_run);

/**
 * Makes a writable root for container @p id from the cached chain @p chain_id, at
 * @p target (an empty or missing directory) or, when NULL, under the state root's
 * containers/ folder. @p path, if not NULL, receives the root's path (free with
 * knast_string_free()). @return #KNAST_ENOTFOUND (no such chain), #KNAST_EEXISTS (id taken).
 */
KNAST_EXTERN knast_status knast_rootfs_create(char **path, knast_rootfs *rootfs, const char *chain_id,
                                              const char *id, const char *target);

/**
 * The container roots as a JSON array of {"id", "chain_id", "driver", "path",
 * "elf_index"} (free with knast_string_free()). "elf_index" is the ELF index that
 * describes the root, for knast_brand_options.elf_index (null when there is none).
 */
KNAST_EXTERN knast_status knast_rootfs_containers(char **json, knast_rootfs *rootfs);

/** Removes container @p id's root (unmounting it); @p removed, if not NULL, says whether it existed. */
KNAST_EXTERN knast_status knast_rootfs_remove(int *removed, knast_rootfs *rootfs, const char *id);

/**
 * Writes the changes made in container @p id as an OCI layer at @p output (see
 * knast_write_layer_diff() for @p digest, @p diff_id and @p compression).
 */
KNAST_EXTERN knast_status knast_rootfs_diff(char **digest, char **diff_id, knast_rootfs *rootfs, const char *id,
                                            const char *output, uint32_t compression);

/* ---- Linuxulator ------------------------------------------------------------------- */

/** How an image runs on a host (knast_run_decide()). */
enum knast_run_method {
  KNAST_RUN_FREEBSD_JAIL = 1,     /**< A FreeBSD image in a jail. */
  KNAST_RUN_LINUXULATOR_JAIL = 2, /**< A Linux image in a jail through the Linuxulator. */
  KNAST_RUN_LINUX_NAMESPACES = 3  /**< A Linux image on Linux, in namespaces. */
};

/**
 * Decides how an image of @p image_platform ("linux/amd64") runs on @p host_platform:
 * NULL for this host (with its kernel's fallback brands), or a platform such as
 * "freebsd/amd64" to ask about a host with the kernel's defaults.
 * @param method receives a ::knast_run_method.
 * @param explanation if not NULL, receives one sentence (free with knast_string_free()).
 * @return #KNAST_OK; #KNAST_EUNSUPPORTED when it cannot run there, with a message naming
 *         both platforms; #KNAST_EINVALID for a malformed platform.
 */
KNAST_EXTERN knast_status knast_run_decide(uint32_t *method, char **explanation, const char *image_platform,
                                           const char *host_platform);

/** Which ELF files knast_brand_tree() brands (knast::BrandMode). */
enum knast_brand_mode {
  KNAST_BRAND_AUTO = 0, /**< Only what the FreeBSD kernel would not recognise as Linux. */
  KNAST_BRAND_ALL = 1,  /**< Every ELF file (`brandelf -t Linux` on each). */
  KNAST_BRAND_NONE = 2  /**< Nothing. */
};

/** What knast_brand_tree() does (knast::BrandOperation). */
enum knast_brand_operation {
  KNAST_BRAND_APPLY = 0, /**< Brand, recording the old bytes. */
  KNAST_BRAND_SCAN = 1,  /**< Count only; never write. */
  KNAST_BRAND_UNDO = 2   /**< Restore the recorded bytes and remove the record. */
};

/** ::knast_brand_options fallback brands: ask the running kernel. */
#define KNAST_BRAND_FALLBACK_HOST INT32_MIN

/** Options of knast_brand_tree(). Initialise with #KNAST_BRAND_OPTIONS_INIT. */
typedef struct knast_brand_options {
  unsigned int version;         /**< #KNAST_BRAND_OPTIONS_VERSION */
  uint32_t mode;                /**< A ::knast_brand_mode. */
  uint32_t operation;           /**< A ::knast_brand_operation. */
  const char *record;           /**< Record of original bytes, or NULL for `<root>.knast-brand.json`. */
  uint32_t threads;             /**< Walking threads; 0 for the default. */
  int32_t elf64_fallback_brand; /**< kern.elf64.fallback_brand to assume, or #KNAST_BRAND_FALLBACK_HOST. */
  int32_t elf32_fallback_brand; /**< kern.elf32.fallback_brand to assume, or #KNAST_BRAND_FALLBACK_HOST. */
  /**
   * Version 2: the ELF index written when the tree was unpacked (::knast_apply_options
   * elf_index; a chain's or a container root's "elf_index"), or NULL: files it shows
   * unchanged and not ELF are not opened (#KNAST_BRAND_KNOWN_NOT_ELF).
   */
  const char *elf_index;
} knast_brand_options;

/** The current version of ::knast_brand_options. */
#define KNAST_BRAND_OPTIONS_VERSION 2
/** Default ::knast_brand_options. */
#define KNAST_BRAND_OPTIONS_INIT \
  {KNAST_BRAND_OPTIONS_VERSION, KNAST_BRAND_AUTO, KNAST_BRAND_APPLY, NULL, 0, KNAST_BRAND_FALLBACK_HOST, \
   KNAST_BRAND_FALLBACK_HOST, NULL}

/** Fills @p opts with the defaults of @p version. @return #KNAST_EINVALID for an unknown version. */
KNAST_EXTERN knast_status knast_brand_options_init(knast_brand_options *opts, unsigned int version);

/** What knast_brand_tree() found and did. */
typedef struct knast_brand_report knast_brand_report;

/** The counts of a ::knast_brand_report (knast_brand_report_count()). */
enum knast_brand_count {
  KNAST_BRAND_SCANNED = 1,         /**< Regular files looked at. */
  KNAST_BRAND_ELF = 2,             /**< Valid ELF files. */
  KNAST_BRAND_ELF32 = 3,           /**< 32-bit ones among them. */
  KNAST_BRAND_NEEDS_BRAND = 4,     /**< Selected files whose byte is not 3 yet. */
  KNAST_BRAND_BRANDED = 5,         /**< Files written. */
  KNAST_BRAND_ALREADY_BRANDED = 6, /**< Selected files already 3. */
  KNAST_BRAND_RESTORED = 7,        /**< Files restored by undo. */
  KNAST_BRAND_SKIPPED = 8,         /**< Files skipped (reasons in the JSON). */
  KNAST_BRAND_KNOWN_NOT_ELF = 9    /**< Scanned files the ELF index showed not ELF: not opened. */
};

/**
 * Brands, scans or un-brands the ELF files of the tree @p root in place (see
 * knast::brand_tree(): symlinks are never followed, mode and times are kept).
 * @param opts NULL for the defaults.
 */
KNAST_EXTERN knast_status knast_brand_tree(knast_brand_report **out, const char *root, const knast_brand_options *opts);
/** A count (a ::knast_brand_count) of @p report; 0 for an unknown one. */
KNAST_EXTERN uint64_t knast_brand_report_count(const knast_brand_report *report, uint32_t which);
/** The whole report as JSON, skipped files and reasons included. Borrowed. */
KNAST_EXTERN const char *knast_brand_report_json(const knast_brand_report *report);
/** Frees a report. NULL is a no-op. */
KNAST_EXTERN void knast_brand_report_free(knast_brand_report *report);

/** Options of the Linux-emulation plan. Initialise with #KNAST_LINUX_PLAN_OPTIONS_INIT. */
typedef struct knast_linux_plan_options {
  unsigned int version;    /**< #KNAST_LINUX_PLAN_OPTIONS_VERSION */
  const char *osrelease;   /**< linux.osrelease, or NULL for "5.15.0". */
  const char *osname;      /**< linux.osname, or NULL for "Linux". */
  const char *hostname;    /**< /etc/hostname, or NULL for "knast". */
  const char *resolv_conf; /**< Content of /etc/resolv.conf, or NULL to leave the image's. */
  uint32_t devfs_ruleset;  /**< knast's devfs ruleset, or 0 for 40. */
  int include_32bit;       /**< Nonzero: also the 32-bit `linux` module for a 64-bit image. */
} knast_linux_plan_options;

/** The current version of ::knast_linux_plan_options. */
#define KNAST_LINUX_PLAN_OPTIONS_VERSION 1
/** Default ::knast_linux_plan_options. */
#define KNAST_LINUX_PLAN_OPTIONS_INIT {KNAST_LINUX_PLAN_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0, 0}

/** Fills @p opts with the defaults of @p version. @return #KNAST_EINVALID for an unknown version. */
KNAST_EXTERN knast_status knast_linux_plan_options_init(knast_linux_plan_options *opts, unsigned int version);

/** Renderings of the plan (knast_linux_plan()). */
enum knast_plan_format {
  KNAST_PLAN_JSON = 1, /**< JSON, keys in a fixed order. */
  KNAST_PLAN_TEXT = 2, /**< kldload lines, devfs.rules, mount commands, jail.conf parameters, files. */
  KNAST_PLAN_JAIL_CONF = 3 /**< A jail.conf(5) stanza (knast_plan_freebsd_jail() only). */
};

/**
 * The Linux-emulation plan for an image of @p image_platform on a FreeBSD host, in
 * @p format (a ::knast_plan_format). Free @p out with knast_string_free().
 * @param opts NULL for the defaults.
 */
KNAST_EXTERN knast_status knast_linux_plan(char **out, const char *image_platform, uint32_t format,
                                           const knast_linux_plan_options *opts);

/**
 * Creates the plan's mount points in @p root and writes its files, never through a
 * symlink (knast::prepare_linux_root()); works on any OS.
 */
KNAST_EXTERN knast_status knast_linux_prepare_root(const char *root, const char *image_platform,
                                                   const knast_linux_plan_options *opts);

/**
 * On a FreeBSD host: checks the plan's kernel modules (loading missing ones when
 * @p load_modules is nonzero), then prepares @p root. #KNAST_EUNSUPPORTED elsewhere;
 * #KNAST_ENOTFOUND for a missing module, with the command that loads it.
 */
KNAST_EXTERN knast_status knast_linux_preflight(const char *root, const char *image_platform,
                                                const knast_linux_plan_options *opts, int load_modules);

/* ---- RunSpec ------------------------------------------------------------------------ */

/** One POSIX resource limit (docker `--ulimit`), for ::knast_run_overrides. */
typedef struct knast_rlimit {
  const char *type; /**< "RLIMIT_NOFILE", "RLIMIT_NPROC", ... */
  uint64_t hard;    /**< The ceiling (UINT64_MAX is unlimited). */
  uint64_t soft;    /**< The value in force, at most @ref hard. */
} knast_rlimit;

/** ::knast_run_overrides::pids_limit: not given. */
#define KNAST_PIDS_LIMIT_UNSET INT64_MIN

/**
 * What a caller adds to, or changes in, an image's config to run it: the options of
 * `docker run` (knast::RunOverrides). NULL strings and empty lists leave the image's
 * values. Initialise with #KNAST_RUN_OVERRIDES_INIT.
 */
typedef struct knast_run_overrides {
  unsigned int version;           /**< #KNAST_RUN_OVERRIDES_VERSION */
  const char *container_id;       /**< The container's id (its first 12 characters are the default hostname), or NULL. */
  const char *image_ref;          /**< The image's name, for messages only, or NULL. */
  const char *host_os;            /**< "linux" or "freebsd"; NULL for this host's. */
  const char *const *args;        /**< The command: replaces the image's Cmd; none (0 entries) keeps it. */
  size_t arg_count;               /**< Entries in @ref args. */
  int set_entrypoint;             /**< Nonzero: @ref entrypoint replaces the image's Entrypoint (docker `--entrypoint`). */
  const char *const *entrypoint;  /**< The entrypoint; with 0 entries it is cleared but the image's Cmd kept. */
  size_t entrypoint_count;        /**< Entries in @ref entrypoint; one "" entry is `--entrypoint ""`. */
  const char *const *env;         /**< `-e`: "NAME=value" sets NAME, "NAME" alone removes it. */
  size_t env_count;               /**< Entries in @ref env. */
  const char *workdir;            /**< `-w`: absolute working directory, or NULL. */
  const char *user;               /**< `-u`: "name", "uid", "uid:gid", ..., or NULL. */
  const char *hostname;           /**< `--hostname`, or NULL. */
  int terminal;                   /**< Nonzero: `-t`, a pseudo-terminal (and TERM=xterm). */
  int read_only;                  /**< Nonzero: `--read-only` root. */
  int no_new_privileges;          /**< Nonzero: `--security-opt no-new-privileges`. */
  int host_network;               /**< Nonzero: `--network host`; 0: an own, empty network stack. */
  const char *const *volumes;     /**< `-v`: "SRC:DST[:ro|rw]" bind mounts. */
  size_t volume_count;            /**< Entries in @ref volumes. */
  const char *const *tmpfs;       /**< `--tmpfs`: "DST[:options]". */
  size_t tmpfs_count;             /**< Entries in @ref tmpfs. */
  const char *memory;             /**< `--memory`: "512m", "1g", ..., or NULL. */
  int64_t pids_limit;             /**< `--pids-limit` (0 or less: unlimited), or #KNAST_PIDS_LIMIT_UNSET. */
  const char *cpus;               /**< `--cpus`: "1.5", or NULL. */
  uint64_t cpu_shares;            /**< `--cpu-shares` (Linux only); 0: not given. */
  const knast_rlimit *rlimits;    /**< `--ulimit`: resource limits of the process. */
  size_t rlimit_count;            /**< Entries in @ref rlimits. */
  const char *linux_osrelease;    /**< The Linux release a Linux image sees on FreeBSD ("5.15.0"), or NULL. */
  const char *const *annotations; /**< Extra annotations as "KEY=VALUE" (they replace knast's of that key). */
  size_t annotation_count;        /**< Entries in @ref annotations. */
} knast_run_overrides;

/** The current version of ::knast_run_overrides. */
#define KNAST_RUN_OVERRIDES_VERSION 1
/** Default ::knast_run_overrides: the image as it is. */
#define KNAST_RUN_OVERRIDES_INIT                                                                                  \
  {KNAST_RUN_OVERRIDES_VERSION, NULL, NULL, NULL, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL, NULL, 0, 0, 0, 0, NULL, \
   0, NULL, 0, NULL, KNAST_PIDS_LIMIT_UNSET, NULL, 0, NULL, 0, NULL, NULL, 0}

/** Fills @p opts with the defaults of @p version. @return #KNAST_EINVALID for an unknown version. */
KNAST_EXTERN knast_status knast_run_overrides_init(knast_run_overrides *opts, unsigned int version);

/**
 * Makes the OCI runtime config (`config.json` text) of a container of the image whose
 * config is @p image_config_json, with its root filesystem at @p rootfs, by docker's
 * rules (knast::make_run_spec(): the user is resolved against the root's own
 * /etc/passwd). Free @p out with knast_string_free().
 * @param overrides NULL to run the image as it is.
 * @return #KNAST_EINVALID (a bad config or override, no command at all),
 *         #KNAST_ENOTFOUND (a user or group the image does not have), #KNAST_EUNSUPPORTED.
 */
KNAST_EXTERN knast_status knast_make_run_spec(char **out, const char *image_config_json, const char *rootfs,
                                              const knast_run_overrides *overrides);

/**
 * As knast_make_run_spec(), with the config of the image @p image (a name or digest in
 * @p store; from an index, the entry for @p platform, or the host's when NULL).
 */
KNAST_EXTERN knast_status knast_make_run_spec_from_store(char **out, knast_image_store *store, const char *image,
                                                         const char *platform, const char *rootfs,
                                                         const knast_run_overrides *overrides);

/**
 * Validates the runtime config @p config_json and writes it back in knast's form
 * (indented, keys sorted, only what knast models). @p ignored, if not NULL, receives the
 * JSON paths of the properties knast does not model, one per line ("linux.seccomp"; an
 * empty string for none). Free both with knast_string_free().
 * @return #KNAST_EINVALID naming the bad field, #KNAST_EUNSUPPORTED (another major
 *         ociVersion), #KNAST_ELIMIT (too large).
 */
KNAST_EXTERN knast_status knast_run_spec_normalize(char **out, char **ignored, const char *config_json);

/**
 * Validates @p config_json and writes it as `config.json` of the bundle directory @p dir
 * (created if missing; its parent must exist), atomically. The root filesystem is not touched.
 */
KNAST_EXTERN knast_status knast_write_bundle(const char *dir, const char *config_json);

/**
 * Reads and validates `config.json` of the bundle directory @p dir; @p out receives it in
 * knast's form (free with knast_string_free()). @return #KNAST_ENOTFOUND without one.
 */
KNAST_EXTERN knast_status knast_read_bundle(char **out, const char *dir);

/* ---- FreeBSD jail plan --------------------------------------------------------------- */

/** Options of knast_plan_freebsd_jail(). Initialise with #KNAST_JAIL_PLAN_OPTIONS_INIT. */
typedef struct knast_jail_plan_options {
  unsigned int version;       /**< #KNAST_JAIL_PLAN_OPTIONS_VERSION */
  const char *container_id;   /**< The container's id (required); the jail is named after it. */
  const char *root_path;      /**< The root on the host, or NULL for the config's root.path. */
  const char *image_platform; /**< The image's platform ("linux/amd64"), or NULL for the config's own
                                   (annotation org.knast.image.platform; else amd64 of the kind its
                                   org.knast.freebsd.linux annotation says). */
  int include_32bit;          /**< Nonzero: the tree holds 32-bit Linux binaries too. */
} knast_jail_plan_options;

/** The current version of ::knast_jail_plan_options. */
#define KNAST_JAIL_PLAN_OPTIONS_VERSION 1
/** Default ::knast_jail_plan_options (a container id must still be set). */
#define KNAST_JAIL_PLAN_OPTIONS_INIT {KNAST_JAIL_PLAN_OPTIONS_VERSION, NULL, NULL, NULL, 0}

/** Fills @p opts with the defaults of @p version. @return #KNAST_EINVALID for an unknown version. */
KNAST_EXTERN knast_status knast_jail_plan_options_init(knast_jail_plan_options *opts, unsigned int version);

/**
 * The plan for running the runtime config @p config_json on a FreeBSD host
 * (knast::plan_freebsd_jail(): jail parameters, kernel modules, devfs ruleset, mounts,
 * files, rctl rules, the process, every step) — what `--dry-run` prints. Pure: works on
 * any host. Free @p out with knast_string_free().
 * @param format #KNAST_PLAN_JSON, #KNAST_PLAN_TEXT (the `--dry-run` text) or
 *        #KNAST_PLAN_JAIL_CONF (a jail.conf(5) stanza).
 * @param opts required: its container_id names the jail.
 * @return #KNAST_EINVALID (bad JSON, what a FreeBSD host cannot do),
 *         #KNAST_EUNSUPPORTED (an image platform the Linuxulator does not run).
 */
KNAST_EXTERN knast_status knast_plan_freebsd_jail(char **out, const char *config_json, uint32_t format,
                                                  const knast_jail_plan_options *opts);

/** The jail name of a container: "knast-" and the first 12 characters of @p container_id. */
KNAST_EXTERN knast_status knast_jail_name(char **out, const char *container_id);

/* ---- Containers (Jail) -------------------------------------------------------------- */

/** One container of a state root (see knast::Jail). A handle: freeing it changes nothing. */
typedef struct knast_jail knast_jail;

/** Where a container's standard input, output and error go (knast::StdioMode). */
enum knast_stdio_mode {
  KNAST_STDIO_INHERIT = 0, /**< The caller's own descriptors 0, 1 and 2. */
  KNAST_STDIO_FDS = 1,     /**< The descriptors in ::knast_stdio::fds. */
  KNAST_STDIO_NULL = 2,    /**< /dev/null for all three. */
  KNAST_STDIO_LOG = 3      /**< stdout and stderr into the container's log (knast_jail_read_logs()). */
};

/** How a container's (or an exec'd process's) stdio is connected. */
typedef struct knast_stdio {
  uint32_t mode; /**< A ::knast_stdio_mode. */
  int fds[3];    /**< #KNAST_STDIO_FDS: descriptors for 0, 1 and 2 (duplicated; the caller keeps its own); -1: /dev/null. */
} knast_stdio;

/** Default ::knast_stdio: the caller's own descriptors. */
#define KNAST_STDIO_INIT {KNAST_STDIO_INHERIT, {-1, -1, -1}}

/** Options of knast_jail_create(). Initialise with #KNAST_JAIL_OPTIONS_INIT. */
typedef struct knast_jail_options {
  unsigned int version;   /**< #KNAST_JAIL_OPTIONS_VERSION */
  const char *state_root; /**< The state root (required; containers/ lives under it). */
  const char *id;         /**< The id, or NULL for a new random one. */
  const char *name;       /**< A unique name (docker `--name`), or NULL. */
  const char *image;      /**< The image's name, for display, or NULL. */
  const char *bundle;     /**< The bundle directory with `config.json` (required). */
  knast_stdio stdio;      /**< Where the container's stdio goes. */
  int remove_on_exit;     /**< Nonzero: delete the container once its first process exits (`--rm`). */
  const char *supervisor; /**< The supervisor program, or NULL to find `knast-shim`. */
  /* Version 2: the network (knast::ContainerNetwork). */
  const char *network;       /**< The network to join (a name or id), or NULL: as the bundle says
                                  (its own stack with loopback only, or the host's). */
  const char *const *ports;  /**< Published ports as `-p` texts ("8080:80", "127.0.0.1:53:53/udp"). */
  size_t ports_count;        /**< How many @ref ports there are. */
  const char *const *dns;    /**< Name servers for its /etc/resolv.conf; none: the host's. */
  size_t dns_count;          /**< How many @ref dns there are. */
} knast_jail_options;

/** The current version of ::knast_jail_options (2 added the network fields). */
#define KNAST_JAIL_OPTIONS_VERSION 2
/** Default ::knast_jail_options (state_root and bundle must still be set). */
#define KNAST_JAIL_OPTIONS_INIT \
  {KNAST_JAIL_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, KNAST_STDIO_INIT, 0, NULL, NULL, NULL, 0, NULL, 0}

/** Fills @p opts with the defaults of @p version. @return #KNAST_EINVALID for an unknown version. */
KNAST_EXTERN knast_status knast_jail_options_init(knast_jail_options *opts, unsigned int version);

/**
 * Makes the container of @p opts (knast::Jail::create()): its supervisor makes the jail
 * or namespaces, mounts and limits, and the first process, stopped before the program
 * runs. On return the container is "created"; knast_jail_start() runs it.
 * @return #KNAST_EINVALID (bad bundle, id or name), #KNAST_EEXISTS (id or name taken),
 *         #KNAST_ENOTFOUND (no root, no executable), #KNAST_EUNSUPPORTED — and nothing is
 *         left behind.
 */
KNAST_EXTERN knast_status knast_jail_create(knast_jail **out, const knast_jail_options *opts);

/**
 * Opens the container @p id_or_name (a full id, a unique id prefix, or a name) of
 * @p state_root. @return #KNAST_ENOTFOUND.
 */
KNAST_EXTERN knast_status knast_jail_open(knast_jail **out, const char *state_root, const char *id_or_name);

/** Frees a handle; the container itself is not touched. NULL is a no-op. */
KNAST_EXTERN void knast_jail_free(knast_jail *jail);

/** The container's full id. Borrowed; NULL for a NULL handle. */
KNAST_EXTERN const char *knast_jail_id(const knast_jail *jail);

/**
 * Every container of @p state_root as a JSON array of states (as knast_jail_state()),
 * oldest first. Free @p json with knast_string_free().
 */
KNAST_EXTERN knast_status knast_jail_list(char **json, const char *state_root);

/**
 * The container's current state as a JSON object: id, name, image, status ("creating",
 * "created", "running", "stopped"), pid, bundle, times, exit code and signal once
 * stopped. Free @p json with knast_string_free().
 */
KNAST_EXTERN knast_status knast_jail_state(char **json, const knast_jail *jail);

/** The runtime config the container runs (`config.json` text). Free with knast_string_free(). */
KNAST_EXTERN knast_status knast_jail_spec(char **json, const knast_jail *jail);

/** Lets the program of a created container run. @return #KNAST_EINVALID unless created. */
KNAST_EXTERN knast_status knast_jail_start(knast_jail *jail);

/**
 * Waits until the container's first process has exited. @p exit_code receives its exit
 * code (128 + N when signal N ended it).
 * @param timeout_ms how long to wait; negative: as long as it takes.
 * @return #KNAST_OK, or #KNAST_ETIMEDOUT when @p timeout_ms passed first (@p exit_code
 *         untouched).
 */
KNAST_EXTERN knast_status knast_jail_wait(int *exit_code, const knast_jail *jail, int64_t timeout_ms);

/**
 * Sends @p signal to the container's first process or, with @p all nonzero, to every
 * process of it. Not an error once it has stopped.
 */
KNAST_EXTERN knast_status knast_jail_kill(knast_jail *jail, int signal, int all);

/**
 * SIGTERM to the first process, then SIGKILL to every process after @p grace_ms
 * (negative: the default 10 s). @p exit_code, if not NULL, receives the exit code.
 */
KNAST_EXTERN knast_status knast_jail_stop(int *exit_code, knast_jail *jail, int64_t grace_ms);

/**
 * Runs a further process in the running container and waits for it (docker exec).
 * @p process_json is a runtime-config `process` object laid over the container's own
 * process: `{"args": ["sh", "-c", "id"]}` keeps its env, user and cwd;
 * `{"args": [...], "env": [...], "user": {"uid": 1, "gid": 1}, "cwd": "/tmp"}` replaces them.
 * @param exit_code receives its exit code.
 * @param stdio NULL for the caller's own descriptors; #KNAST_STDIO_LOG is refused.
 * @return #KNAST_EINVALID (bad JSON, not running), #KNAST_ENOTFOUND (no such executable).
 */
KNAST_EXTERN knast_status knast_jail_exec(int *exit_code, knast_jail *jail, const char *process_json,
                                          const knast_stdio *stdio);

/**
 * Deletes the container: with @p force nonzero a running one is killed first; otherwise
 * it must be created or stopped. Tears down its mounts, jail or namespaces and limits
 * and removes its directory; the root filesystem belongs to its maker. The handle stays
 * to be freed.
 */
KNAST_EXTERN knast_status knast_jail_remove(knast_jail *jail, int force);

/**
 * Receives one chunk of a container's log: @p stream 1 (stdout) or 2 (stderr), @p size
 * bytes at @p data (not NUL-terminated). Returning nonzero stops reading with
 * #KNAST_ECANCELLED.
 */
typedef int (*knast_log_cb)(int stream, const char *data, size_t size, void *payload);

/**
 * Reads the log of a #KNAST_STDIO_LOG container in order, calling @p sink per chunk.
 * With @p follow nonzero it keeps reading until the container has stopped and its
 * supervisor is gone.
 */
KNAST_EXTERN knast_status knast_jail_read_logs(const knast_jail *jail, knast_log_cb sink, void *payload, int follow);

/** A new random container id (64 hex digits, as docker makes them). Free @p out with knast_string_free(). */
KNAST_EXTERN knast_status knast_new_container_id(char **out);

/**
 * The supervisor program knast_jail_create() runs by default: $KNAST_SHIM, else
 * `knast-shim` beside the library, else in the libexec directory. Free @p out with
 * knast_string_free(). @return #KNAST_ENOTFOUND naming the places looked at.
 */
KNAST_EXTERN knast_status knast_jail_find_supervisor(char **out);

/* ---- Networks ----------------------------------------------------------------------- */

/** A named network of a state root (see knast::Network). A handle: freeing it changes nothing. */
typedef struct knast_network knast_network;

/** Options of knast_network_create(). Initialise with #KNAST_NETWORK_OPTIONS_INIT. */
typedef struct knast_network_options {
  unsigned int version;         /**< #KNAST_NETWORK_OPTIONS_VERSION */
  const char *state_root;       /**< The state root (required). */
  const char *name;             /**< The network's name (required). */
  const char *driver;           /**< "bridge" (NULL) or "shared" (FreeBSD only). */
  const char *subnet;           /**< IPv4 CIDR, or NULL for a free 10.89.N.0/24. */
  const char *gateway;          /**< The gateway, or NULL for the subnet's first address. */
  const char *parent_interface; /**< See knast::NetworkConfig::parent_interface, or NULL. */
  int nat;                      /**< Nonzero (default): outbound NAT for a bridge network. */
} knast_network_options;

/** The current version of ::knast_network_options. */
#define KNAST_NETWORK_OPTIONS_VERSION 1
/** Default ::knast_network_options (state_root and name must still be set). */
#define KNAST_NETWORK_OPTIONS_INIT {KNAST_NETWORK_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, 1}

/** Fills @p opts with the defaults of @p version. @return #KNAST_EINVALID for an unknown version. */
KNAST_EXTERN knast_status knast_network_options_init(knast_network_options *opts, unsigned int version);

/**
 * Creates a network (knast::Network::create()): its record and, for a bridge, the bridge
 * interface, forwarding and NAT rules. Needs root.
 * @return #KNAST_EINVALID (bad name, subnet, gateway, driver), #KNAST_EEXISTS (name or
 *         overlapping subnet taken), or what the host refused — and nothing is left behind.
 */
KNAST_EXTERN knast_status knast_network_create(knast_network **out, const knast_network_options *opts);

/** Opens the network @p name_or_id of @p state_root. @return #KNAST_ENOTFOUND. */
KNAST_EXTERN knast_status knast_network_open(knast_network **out, const char *state_root, const char *name_or_id);

/** Opens the default network "knast" (a bridge on 10.88.0.0/16), creating it on first use. */
KNAST_EXTERN knast_status knast_network_default(knast_network **out, const char *state_root);

/** Frees a handle; the network itself is not touched. NULL is a no-op. */
KNAST_EXTERN void knast_network_free(knast_network *network);

/** The network's config as JSON (what `network.json` holds). Free with knast_string_free(). */
KNAST_EXTERN knast_status knast_network_config(char **json, const knast_network *network);

/** The containers on the network as a JSON array of endpoints. Free with knast_string_free(). */
KNAST_EXTERN knast_status knast_network_endpoints(char **json, const knast_network *network);

/**
 * Deletes the network: bridge, firewall rules, record. The handle stays to be freed.
 * @return #KNAST_EINVALID while containers are on it.
 */
KNAST_EXTERN knast_status knast_network_remove(knast_network *network);

/** Every network of @p state_root as a JSON array of configs. Free with knast_string_free(). */
KNAST_EXTERN knast_status knast_network_list(char **json, const char *state_root);

/**
 * The endpoint of container @p container_id (its address, interfaces and published
 * ports) as a JSON object, or "null" when it is on no network. Free with knast_string_free().
 */
KNAST_EXTERN knast_status knast_container_endpoint(char **json, const char *state_root, const char *container_id);

/**
 * Parses one `-p` value ("[[hostip:]hostport:]containerport[/tcp|udp]", ranges allowed)
 * into a JSON array of mappings {host_ip, host_port, container_port, protocol}; host_port
 * 0 (no host port given) asks for any free port when the container joins its network.
 * Free with knast_string_free(). @return #KNAST_EINVALID naming what is wrong.
 */
KNAST_EXTERN knast_status knast_parse_port_mappings(char **json, const char *text);

/**
 * The plan for wiring container @p container_id of @p state_root to its network on a
 * @p host_os ("linux" or "freebsd") host: the steps and the firewall rules, in @p format
 * (#KNAST_PLAN_JSON or #KNAST_PLAN_TEXT). Pure apart from reading the records.
 * @return #KNAST_ENOTFOUND when the container is on no network.
 */
KNAST_EXTERN knast_status knast_network_plan(char **out, const char *state_root, const char *container_id,
                                             const char *host_os, uint32_t format);

#ifdef __cplusplus
}
#endif

#endif /* KNAST_H */
