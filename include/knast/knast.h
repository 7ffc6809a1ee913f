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

#ifdef __cplusplus
}
#endif

#endif /* KNAST_H */
