/* Tests of the C ABI, built as strict C99: handles, status codes, the thread's last
 * error, borrowed and owned strings. Prints "N passed, M failed" and exits non-zero on
 * any failure. */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define CHECK_STR(actual, expected) CHECK((actual) != NULL && strcmp((actual), (expected)) == 0)

static const char *const EMPTY_SHA256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static void test_reference(void) {
  knast_reference *ref = NULL;
  CHECK(knast_reference_parse(&ref, "alpine") == KNAST_OK);
  CHECK_STR(knast_reference_string(ref), "docker.io/library/alpine:latest");
  CHECK_STR(knast_reference_name(ref), "docker.io/library/alpine");
  CHECK_STR(knast_reference_domain(ref), "docker.io");
  CHECK_STR(knast_reference_path(ref), "library/alpine");
  CHECK_STR(knast_reference_tag(ref), "latest");
  CHECK(knast_reference_digest(ref) == NULL);
  CHECK_STR(knast_reference_familiar(ref), "alpine:latest");
  knast_reference_free(ref);

  ref = NULL;
  CHECK(knast_reference_parse(&ref, "localhost:5000/a/b@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == KNAST_OK);
  CHECK_STR(knast_reference_domain(ref), "localhost:5000");
  CHECK(knast_reference_tag(ref) == NULL);
  CHECK_STR(knast_reference_digest(ref), EMPTY_SHA256);
  knast_reference_free(ref);
}

static void test_errors(void) {
  knast_reference *ref = (knast_reference *)&passed; /* must be reset to NULL on failure */
  const knast_error *err;
  CHECK(knast_reference_parse(&ref, "Alpine") == KNAST_EINVALID);
  CHECK(ref == NULL);
  err = knast_last_error();
  CHECK(err != NULL);
  CHECK(err->status == KNAST_EINVALID);
  CHECK(err->sys_errno == 0);
  CHECK(err->message != NULL && strstr(err->message, "Alpine") != NULL);
  CHECK_STR(knast_status_name(err->status), "invalid_argument");

  CHECK(knast_reference_parse(NULL, "alpine") == KNAST_EINVALID);
  CHECK(strstr(knast_last_error()->message, "out") != NULL);
  CHECK(knast_reference_parse(&ref, NULL) == KNAST_EINVALID);
  CHECK_STR(knast_status_name(KNAST_ENOMEM), "out_of_memory");
  CHECK_STR(knast_status_name(12345), "unknown");
  knast_reference_free(NULL);
  knast_digest_free(NULL);
  knast_hasher_free(NULL);
  knast_string_free(NULL);
}

static void test_digest(void) {
  knast_digest *digest = NULL;
  knast_digest *again = NULL;
  knast_hasher *hasher = NULL;
  CHECK(knast_digest_of(&digest, KNAST_DIGEST_SHA256, "", 0) == KNAST_OK);
  CHECK_STR(knast_digest_string(digest), EMPTY_SHA256);
  CHECK(knast_digest_algorithm_of(digest) == KNAST_DIGEST_SHA256);
  CHECK(knast_digest_parse(&again, knast_digest_string(digest)) == KNAST_OK);
  CHECK_STR(knast_digest_hex(again), knast_digest_hex(digest));
  knast_digest_free(digest);
  knast_digest_free(again);

  CHECK(knast_hasher_new(&hasher, KNAST_DIGEST_SHA512) == KNAST_OK);
  CHECK(knast_hasher_update(hasher, "ab", 2) == KNAST_OK);
  CHECK(knast_hasher_update(hasher, "c", 1) == KNAST_OK);
  CHECK(knast_hasher_finish(&digest, hasher) == KNAST_OK);
  CHECK_STR(knast_digest_hex(digest),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd"
            "454d4423643ce80e2a9ac94fa54ca49f");
  CHECK(knast_digest_algorithm_of(digest) == KNAST_DIGEST_SHA512);
  CHECK(knast_hasher_finish(&again, hasher) == KNAST_ERROR); /* finish twice is a caller bug */
  knast_digest_free(digest);
  knast_hasher_free(hasher);

  CHECK(knast_digest_parse(&digest, "sha256:abc") == KNAST_EINVALID);
  CHECK(knast_digest_parse(&digest, "md5:d41d8cd98f00b204e9800998ecf8427e") == KNAST_EUNSUPPORTED);
  CHECK(knast_digest_of(&digest, 99, "", 0) == KNAST_EINVALID);
  CHECK(knast_hasher_new(&hasher, 0) == KNAST_EINVALID);
}

static void test_platform(void) {
  char *text = NULL;
  int match = -1;
  CHECK(knast_platform_host(&text) == KNAST_OK);
  CHECK(text != NULL && (strncmp(text, "linux/", 6) == 0 || strncmp(text, "freebsd/", 8) == 0));
  knast_string_free(text);
  CHECK(knast_platform_normalize(&text, "Linux/x86_64") == KNAST_OK);
  CHECK_STR(text, "linux/amd64");
  knast_string_free(text);
  CHECK(knast_platform_matches(&match, "linux/arm64", "linux/arm/v7") == KNAST_OK);
  CHECK(match == 1);
  CHECK(knast_platform_matches(&match, "linux/amd64", "freebsd/amd64") == KNAST_OK);
  CHECK(match == 0);
  CHECK(knast_platform_normalize(&text, "a/b/c/d/e") == KNAST_EINVALID);
}

static void test_documents(void) {
  static const char manifest[] =
      "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
      "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":"
      "\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"size\":2},\"layers\":[]}";
  static const char wrong_size[] =
      "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":"
      "\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"size\":-2},\"layers\":[]}";
  char *summary = NULL;
  char *big;
  size_t big_size = (size_t)5 << 20;
  CHECK(knast_document_validate(&summary, KNAST_DOCUMENT_MANIFEST, manifest, sizeof manifest - 1) == KNAST_OK);
  CHECK(summary != NULL && strstr(summary, "0 layers") != NULL);
  knast_string_free(summary);
  CHECK(knast_document_validate(NULL, KNAST_DOCUMENT_MANIFEST, manifest, sizeof manifest - 1) == KNAST_OK);
  CHECK(knast_document_validate(&summary, KNAST_DOCUMENT_MANIFEST, wrong_size, sizeof wrong_size - 1) == KNAST_EINVALID);
  CHECK(summary == NULL);
  CHECK(knast_document_validate(NULL, KNAST_DOCUMENT_INDEX, manifest, sizeof manifest - 1) != KNAST_OK);
  CHECK(knast_document_validate(NULL, KNAST_DOCUMENT_CONFIG, "not json", 8) == KNAST_EINVALID);
  CHECK(knast_document_validate(NULL, 42, manifest, sizeof manifest - 1) == KNAST_EINVALID);
  big = (char *)malloc(big_size);
  CHECK(big != NULL);
  if (big != NULL) {
    memset(big, ' ', big_size);
    CHECK(knast_document_validate(NULL, KNAST_DOCUMENT_MANIFEST, big, big_size) == KNAST_ELIMIT);
    free(big);
  }
}

int main(void) {
  test_reference();
  test_errors();
  test_digest();
  test_platform();
  test_documents();
  CHECK(knast_last_error()->message != NULL);
  return REPORT();
}
