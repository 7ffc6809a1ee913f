/* RunSpec through the C ABI, as strict C99: a config made from an image config with
 * overrides, the same from an image in a store, normalising (with the ignored fields),
 * bundles written and read back, options and the error paths (bad JSON, NULLs, an unknown
 * options version). Prints "N passed, M failed". */
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include "check.h"
#include "scratch_dir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONTAINS(text, part) ((text) != NULL && strstr((text), (part)) != NULL)

static char dir[64];
static char rootfs[128];

static const char *image_config =
    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},"
    "\"config\":{\"Env\":[\"PATH=/bin\",\"FROM_IMAGE=1\"],\"Cmd\":[\"sh\"],\"WorkingDir\":\"/srv\"}}";

static void make_rootfs(void) {
  char command[2048];
  snprintf(rootfs, sizeof rootfs, "%s/rootfs", dir);
  snprintf(command, sizeof command,
           "mkdir -p %s/etc %s/bin && echo 'root:x:0:0:root:/root:/bin/sh' > %s/etc/passwd && "
           "echo 'web:x:33:44:web:/home/web:/bin/sh' >> %s/etc/passwd && echo 'root:x:0:' > %s/etc/group",
           rootfs, rootfs, rootfs, rootfs, rootfs);
  CHECK(system(command) == 0);
}

static void test_options(void) {
  knast_run_overrides opts;
  CHECK(knast_run_overrides_init(&opts, KNAST_RUN_OVERRIDES_VERSION) == KNAST_OK);
  CHECK(opts.version == KNAST_RUN_OVERRIDES_VERSION && opts.args == NULL && opts.pids_limit == KNAST_PIDS_LIMIT_UNSET);
  CHECK(knast_run_overrides_init(&opts, 0) == KNAST_EINVALID);
  CHECK(knast_run_overrides_init(&opts, 99) == KNAST_EINVALID);
  CHECK(knast_run_overrides_init(NULL, KNAST_RUN_OVERRIDES_VERSION) == KNAST_EINVALID);
}

static void test_make(void) {
  knast_run_overrides opts = KNAST_RUN_OVERRIDES_INIT;
  const char *args[] = {"echo", "hello"};
  const char *env[] = {"A=b", "FROM_IMAGE"};
  const char *annotations[] = {"org.example.k=v"};
  knast_rlimit nofile = {"RLIMIT_NOFILE", 2048, 1024};
  char *json = NULL;

  /* The image as it is. */
  CHECK(knast_make_run_spec(&json, image_config, rootfs, NULL) == KNAST_OK);
  CHECK(CONTAINS(json, "\"ociVersion\""));
  CHECK(CONTAINS(json, "\"FROM_IMAGE=1\""));
  CHECK(CONTAINS(json, "\"cwd\": \"/srv\""));
  knast_string_free(json);

  opts.container_id = "0123456789abcdef0123";
  opts.host_os = "linux";
  opts.args = args;
  opts.arg_count = 2;
  opts.env = env;
  opts.env_count = 2;
  opts.user = "web";
  opts.memory = "64m";
  opts.pids_limit = 50;
  opts.rlimits = &nofile;
  opts.rlimit_count = 1;
  opts.annotations = annotations;
  opts.annotation_count = 1;
  CHECK(knast_make_run_spec(&json, image_config, rootfs, &opts) == KNAST_OK);
  CHECK(CONTAINS(json, "\"echo\",\n      \"hello\""));
  CHECK(CONTAINS(json, "\"A=b\""));
  CHECK(!CONTAINS(json, "FROM_IMAGE"));
  CHECK(CONTAINS(json, "\"HOSTNAME=0123456789ab\""));
  CHECK(CONTAINS(json, "\"hostname\": \"0123456789ab\""));
  CHECK(CONTAINS(json, "\"uid\": 33"));
  CHECK(CONTAINS(json, "\"gid\": 44"));
  CHECK(CONTAINS(json, "\"HOME=/home/web\""));
  CHECK(CONTAINS(json, "\"limit\": 67108864"));
  CHECK(CONTAINS(json, "\"RLIMIT_NOFILE\""));
  CHECK(CONTAINS(json, "\"org.example.k\": \"v\""));
  knast_string_free(json);

  /* --entrypoint "" with no args: nothing to run. */
  {
    const char *empty[] = {""};
    knast_run_overrides none = KNAST_RUN_OVERRIDES_INIT;
    none.set_entrypoint = 1;
    none.entrypoint = empty;
    none.entrypoint_count = 1;
    CHECK(knast_make_run_spec(&json, image_config, rootfs, &none) == KNAST_EINVALID);
    CHECK(json == NULL);
  }

  /* Bad input. */
  opts.user = "nobody-here";
  CHECK(knast_make_run_spec(&json, image_config, rootfs, &opts) == KNAST_ENOTFOUND);
  opts.user = NULL;
  opts.memory = "lots";
  CHECK(knast_make_run_spec(&json, image_config, rootfs, &opts) == KNAST_EINVALID);
  CHECK(CONTAINS(knast_last_error()->message, "lots"));
  opts.memory = NULL;
  annotations[0] = "no-equals-sign";
  CHECK(knast_make_run_spec(&json, image_config, rootfs, &opts) == KNAST_EINVALID);
  CHECK(CONTAINS(knast_last_error()->message, "no-equals-sign"));
  opts.annotation_count = 0;
  args[1] = NULL; /* a NULL entry in a list */
  CHECK(knast_make_run_spec(&json, image_config, rootfs, &opts) == KNAST_EINVALID);
  CHECK(CONTAINS(knast_last_error()->message, "args"));
  CHECK(knast_make_run_spec(&json, "{not json", rootfs, NULL) == KNAST_EINVALID);
  CHECK(knast_make_run_spec(&json, NULL, rootfs, NULL) == KNAST_EINVALID);
  CHECK(knast_make_run_spec(&json, image_config, NULL, NULL) == KNAST_EINVALID);
  CHECK(knast_make_run_spec(NULL, image_config, rootfs, NULL) == KNAST_EINVALID);
  opts.version = 99;
  CHECK(knast_make_run_spec(&json, image_config, rootfs, &opts) == KNAST_EINVALID);
  CHECK(CONTAINS(knast_last_error()->message, "version 99"));
  CHECK(json == NULL);
}

static void test_from_store(void) {
  knast_image_store *store = NULL;
  knast_import_options import = KNAST_IMPORT_OPTIONS_INIT;
  const char *changes[] = {"CMD [\"/bin/hello\"]", "ENV FROM_STORE=yes"};
  char root[512], tarball[512], command[1200];
  char *json = NULL;

  snprintf(root, sizeof root, "%s/store", dir);
  snprintf(tarball, sizeof tarball, "%s/rootfs.tar", dir);
  snprintf(command, sizeof command, "tar -C %s -cf %s .", rootfs, tarball);
  CHECK(system(command) == 0);
  CHECK(knast_image_store_open(&store, root, NULL) == KNAST_OK);
  import.changes = changes;
  import.change_count = 2;
  import.platform = "linux/amd64";
  CHECK(knast_image_store_import(NULL, store, tarball, "hello:1", &import) == KNAST_OK);

  CHECK(knast_make_run_spec_from_store(&json, store, "hello:1", "linux/amd64", rootfs, NULL) == KNAST_OK);
  CHECK(CONTAINS(json, "\"/bin/hello\""));
  CHECK(CONTAINS(json, "\"FROM_STORE=yes\""));
  knast_string_free(json);
  CHECK(knast_make_run_spec_from_store(&json, store, "missing:1", NULL, rootfs, NULL) == KNAST_ENOTFOUND);
  CHECK(knast_make_run_spec_from_store(&json, NULL, "hello:1", NULL, rootfs, NULL) == KNAST_EINVALID);
  CHECK(knast_make_run_spec_from_store(&json, store, "hello:1", "not a platform!", rootfs, NULL) == KNAST_EINVALID);
  CHECK(json == NULL);
  knast_image_store_free(store);
}

static void test_normalize_and_bundles(void) {
  static const char *config =
      "{\"ociVersion\":\"1.1.0\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}},"
      "\"root\":{\"path\":\"rootfs\"},"
      "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"}}}";
  char bundle[512], missing[512];
  char *json = NULL, *ignored = NULL, *back = NULL;

  CHECK(knast_run_spec_normalize(&json, &ignored, config) == KNAST_OK);
  CHECK(CONTAINS(json, "\"path\": \"rootfs\""));
  CHECK(!CONTAINS(json, "seccomp"));
  CHECK(ignored != NULL && strcmp(ignored, "linux.seccomp\n") == 0);
  knast_string_free(ignored);

  snprintf(bundle, sizeof bundle, "%s/bundle", dir);
  CHECK(knast_write_bundle(bundle, config) == KNAST_OK);
  CHECK(knast_read_bundle(&back, bundle) == KNAST_OK);
  CHECK(back != NULL && json != NULL && strcmp(back, json) == 0);
  knast_string_free(back);
  knast_string_free(json);

  CHECK(knast_run_spec_normalize(&json, NULL, "{\"ociVersion\":\"1.1.0\",\"process\":{\"args\":[],\"cwd\":\"/\","
                                              "\"user\":{\"uid\":0,\"gid\":0}},\"root\":{\"path\":\"r\"}}") == KNAST_EINVALID);
  CHECK(CONTAINS(knast_last_error()->message, "process.args"));
  CHECK(knast_run_spec_normalize(&json, &ignored, "[1, 2") == KNAST_EINVALID);
  CHECK(json == NULL && ignored == NULL);
  CHECK(knast_run_spec_normalize(&json, NULL, "{\"ociVersion\":\"2.0.0\",\"process\":{\"args\":[\"a\"],\"cwd\":\"/\","
                                              "\"user\":{\"uid\":0,\"gid\":0}},"
                                              "\"root\":{\"path\":\"r\"}}") == KNAST_EUNSUPPORTED);
  CHECK(knast_write_bundle(bundle, "{}") == KNAST_EINVALID);
  CHECK(knast_write_bundle(NULL, config) == KNAST_EINVALID);
  snprintf(missing, sizeof missing, "%s/no-bundle", dir);
  CHECK(knast_read_bundle(&back, missing) == KNAST_ENOTFOUND);
  CHECK(back == NULL);
  CHECK(knast_read_bundle(NULL, bundle) == KNAST_EINVALID);
}

int main(void) {
  if (make_scratch_dir(dir, sizeof dir, "runspec") != 0) return 2;
  make_rootfs();
  test_options();
  test_make();
  test_from_store();
  test_normalize_and_bundles();
  remove_scratch_dir(dir);
  return REPORT();
}
