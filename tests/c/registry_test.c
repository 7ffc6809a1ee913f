/* The registry client through the C ABI, as strict C99, against the test registry named by
 * KNAST_TEST_REGISTRY (tests/c/with_registry.py starts one): push, pull with a progress
 * callback, cancellation from the callback, resolve, tags, options. Prints
 * "N passed, M failed". */
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include "check.h"
#include "scratch_dir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


struct counts {
  int calls;
  int done;
  int cancel;
};

static int on_progress(const knast_progress *p, void *payload) {
  struct counts *counts = (struct counts *)payload;
  ++counts->calls;
  if (p->state == KNAST_TRANSFER_DONE) ++counts->done;
  if (p->digest == NULL || strncmp(p->digest, "sha256:", 7) != 0) return 1;
  return counts->cancel;
}

int main(void) {
  const char *host = getenv("KNAST_TEST_REGISTRY");
  char tmpl[64];
  char path[512], command[2048], remote[512], repository[512];
  knast_registry_options options = KNAST_REGISTRY_OPTIONS_INIT;
  knast_pull_options pull = KNAST_PULL_OPTIONS_INIT;
  knast_push_options push;
  knast_registry *registry = NULL;
  knast_image_store *source = NULL;
  knast_image_store *target = NULL;
  knast_image_list *list = NULL;
  struct counts counts = {0, 0, 0};
  char *digest = NULL, *pulled = NULL, *document = NULL, *tags = NULL;

  if (host == NULL || make_scratch_dir(tmpl, sizeof tmpl, "registry") != 0) {
    fprintf(stderr, "KNAST_TEST_REGISTRY is not set (run through with_registry.py)\n");
    return 2;
  }
  snprintf(remote, sizeof remote, "%s/c/hello:1", host);
  snprintf(repository, sizeof repository, "%s/c/hello", host);

  CHECK(knast_push_options_init(&push, KNAST_PUSH_OPTIONS_VERSION) == KNAST_OK);
  CHECK(knast_registry_options_init(&options, 42) == KNAST_EINVALID);
  options.ignore_docker_config = 1;
  options.retries = 0;
  CHECK(knast_registry_new(&registry, &options) == KNAST_OK);

  snprintf(path, sizeof path, "%s/source", tmpl);
  CHECK(knast_image_store_open(&source, path, NULL) == KNAST_OK);
  snprintf(command, sizeof command, "mkdir -p %s/rootfs && head -c 300000 /dev/urandom > %s/rootfs/data && tar -C %s/rootfs -cf %s/rootfs.tar .",
           tmpl, tmpl, tmpl, tmpl);
  CHECK(system(command) == 0);
  snprintf(path, sizeof path, "%s/rootfs.tar", tmpl);
  CHECK(knast_image_store_import(&digest, source, path, "hello:1", NULL) == KNAST_OK);

  push.progress = on_progress;
  push.payload = &counts;
  CHECK(knast_registry_push(NULL, registry, source, "hello:1", remote, &push) == KNAST_OK);
  CHECK(counts.calls > 0);
  CHECK(knast_registry_tags(&tags, registry, repository) == KNAST_OK);
  CHECK(tags != NULL && strcmp(tags, "1\n") == 0);
  CHECK(knast_registry_resolve(&pulled, &document, registry, remote) == KNAST_OK);
  CHECK(pulled != NULL && digest != NULL && strcmp(pulled, digest) == 0);
  CHECK(document != NULL && strstr(document, "schemaVersion") != NULL);
  knast_string_free(pulled);
  pulled = NULL;

  snprintf(path, sizeof path, "%s/target", tmpl);
  CHECK(knast_image_store_open(&target, path, NULL) == KNAST_OK);
  counts.calls = counts.done = 0;
  counts.cancel = 1;
  pull.progress = on_progress;
  pull.payload = &counts;
  CHECK(knast_registry_pull(&pulled, registry, target, remote, &pull) == KNAST_ECANCELLED);
  CHECK(pulled == NULL);
  CHECK(knast_image_store_list(&list, target) == KNAST_OK);
  CHECK(knast_image_list_count(list) == 0); /* a cancelled pull names nothing */
  knast_image_list_free(list);

  counts.cancel = 0;
  CHECK(knast_registry_pull(&pulled, registry, target, remote, &pull) == KNAST_OK);
  CHECK(pulled != NULL && strcmp(pulled, digest) == 0);
  CHECK(counts.done >= 2);
  CHECK(knast_registry_pull(NULL, registry, target, "127.0.0.1:1/nothing:1", NULL) == KNAST_ENETWORK);
  CHECK(knast_registry_pull(NULL, registry, target, "Not A Reference", NULL) == KNAST_EINVALID);

  knast_string_free(digest);
  knast_string_free(pulled);
  knast_string_free(document);
  knast_string_free(tags);
  knast_image_store_free(source);
  knast_image_store_free(target);
  knast_registry_free(registry);
  remove_scratch_dir(tmpl);
  return REPORT();
}
