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
  KNAST_ENOMEM = -14        /**< Out of memory. */
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

#ifdef __cplusplus
}
#endif

#endif /* KNAST_H */
