/* The image store through the C ABI, as strict C99: open, import, list, tag, inspect,
 * save/load, remove, gc, verify, versioned options and error paths. Prints
 * "N passed, M failed". */
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include "check.h"
#include "scratch_dir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static char dir[256];

static void path_in(char *out, size_t size, const char *name) { snprintf(out, size, "%s/%s", dir, name); }

static int make_rootfs(const char *tarball) {
  char command[4096];
  snprintf(command, sizeof command,
           "mkdir -p %s/rootfs/bin && echo hi > %s/rootfs/bin/hello && tar -C %s/rootfs -cf %s .", dir, dir, dir,
           tarball);
  return system(command);
}

static void test_options(void) {
  knast_store_options opts;
  knast_import_options import;
  CHECK(knast_store_options_init(&opts, KNAST_STORE_OPTIONS_VERSION) == KNAST_OK);
  CHECK(opts.version == KNAST_STORE_OPTIONS_VERSION && opts.flags == 0);
  CHECK(knast_store_options_init(&opts, 99) == KNAST_EINVALID);
  CHECK(knast_import_options_init(&import, KNAST_IMPORT_OPTIONS_VERSION) == KNAST_OK);
  CHECK(import.changes == NULL && import.change_count == 0);
}

static void test_store(void) {
  knast_image_store *store = NULL;
  knast_image_store *other = NULL;
  knast_image_list *list = NULL;
  knast_store_options opts = KNAST_STORE_OPTIONS_INIT;
  knast_import_options import = KNAST_IMPORT_OPTIONS_INIT;
  const char *changes[] = {"CMD [\"/bin/hello\"]", "ENV A=b"};
  const char *names[] = {"hello:1"};
  char root[512], tarball[512], archive[512], other_root[512];
  char *digest = NULL, *json = NULL, *loaded = NULL, *report = NULL;
  size_t removed = 0, problems = 99;
  uint64_t freed = 0;

  path_in(root, sizeof root, "store");
  path_in(tarball, sizeof tarball, "rootfs.tar");
  path_in(archive, sizeof archive, "saved.tar");
  path_in(other_root, sizeof other_root, "other");
  CHECK(make_rootfs(tarball) == 0);

  opts.flags = KNAST_STORE_MUST_EXIST;
  CHECK(knast_image_store_open(&store, root, &opts) == KNAST_ENOTFOUND);
  CHECK(store == NULL);
  CHECK(knast_image_store_open(&store, root, NULL) == KNAST_OK);

  import.changes = changes;
  import.change_count = 2;
  import.comment = "from C";
  CHECK(knast_image_store_import(&digest, store, tarball, "hello:1", &import) == KNAST_OK);
  CHECK(digest != NULL && strncmp(digest, "sha256:", 7) == 0);
  CHECK(knast_image_store_tag(store, "hello:1", "hello:2") == KNAST_OK);
  CHECK(knast_image_store_tag(store, digest, "hello:3") == KNAST_OK);

  CHECK(knast_image_store_list(&list, store) == KNAST_OK);
  CHECK(knast_image_list_count(list) == 3);
  CHECK(strcmp(knast_image_list_name(list, 0), "docker.io/library/hello:1") == 0);
  CHECK(strcmp(knast_image_list_digest(list, 0), digest) == 0);
  CHECK(strncmp(knast_image_list_platforms(list, 0), "linux/", 6) == 0 ||
        strncmp(knast_image_list_platforms(list, 0), "freebsd/", 8) == 0);
  CHECK(knast_image_list_size(list, 0) > 0);
  CHECK(knast_image_list_name(list, 3) == NULL);
  CHECK(knast_image_list_size(list, 3) == -1);
  knast_image_list_free(list);

  CHECK(knast_image_store_inspect(&json, store, "hello:2", NULL) == KNAST_OK);
  CHECK(json != NULL && strstr(json, "/bin/hello") != NULL && strstr(json, digest) != NULL);
  knast_string_free(json);
  CHECK(knast_image_store_inspect(&json, store, "absent:1", NULL) == KNAST_ENOTFOUND);
  CHECK(json == NULL);

  CHECK(knast_image_store_save(store, names, 1, archive, KNAST_ARCHIVE_OCI) == KNAST_OK);
  CHECK(knast_image_store_save(store, names, 1, archive, 7) == KNAST_EINVALID);
  CHECK(knast_image_store_open(&other, other_root, NULL) == KNAST_OK);
  CHECK(knast_image_store_load(&loaded, other, archive) == KNAST_OK);
  CHECK(loaded != NULL && strcmp(loaded, "docker.io/library/hello:1\n") == 0);
  knast_string_free(loaded);
  knast_image_store_free(other);

  CHECK(knast_image_store_untag(store, "hello:3") == KNAST_OK);
  CHECK(knast_image_store_untag(store, "hello:3") == KNAST_ENOTFOUND);
  CHECK(knast_image_store_remove(store, "hello:2") == KNAST_OK);
  CHECK(knast_image_store_remove(store, "hello:1") == KNAST_OK);
  CHECK(knast_image_store_gc(&removed, &freed, store, 0) == KNAST_OK);
  CHECK(removed == 0); /* remove already collected everything */
  CHECK(knast_image_store_verify(&problems, &report, store) == KNAST_OK);
  CHECK(problems == 0);
  knast_string_free(report);
  knast_string_free(digest);
  knast_image_store_free(store);
}

int main(void) {
  if (make_scratch_dir(dir, sizeof dir, "store") != 0) return 2;
  test_options();
  test_store();
  remove_scratch_dir(dir);
  return REPORT();
}
