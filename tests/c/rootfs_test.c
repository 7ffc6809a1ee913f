/* Rootfs through the C ABI, as strict C99: apply a layer (and refuse a hostile one), chain
 * IDs, the chain cache (unpack, list, prune), container roots (create, containers, diff,
 * remove), versioned options and error paths. Prints "N passed, M failed". */
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include "check.h"
#include "scratch_dir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[256];

static void path_in(char *out, size_t size, const char *name) { snprintf(out, size, "%s/%s", dir, name); }

static int exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

static int run(const char *format, const char *a, const char *b) {
  char command[4096];
  snprintf(command, sizeof command, format, a, b);
  return system(command);
}

/* A layer tar with bin/hello and etc/motd, made with tar(1). */
static int make_layer(const char *tarball) {
  char tree[512];
  path_in(tree, sizeof tree, "tree");
  if (run("mkdir -p %s/bin %s/etc", tree, tree) != 0) return -1;
  if (run("echo hi > %s/bin/hello && echo welcome > %s/etc/motd", tree, tree) != 0) return -1;
  return run("tar -C %s -cf %s bin etc", tree, tarball);
}

/* A layer whose only entry climbs out of the root: "../escaped". */
static int make_hostile_layer(const char *tarball) {
  return run("/usr/bin/python3 -c \"import io,tarfile,sys; t=tarfile.open(sys.argv[1],'w'); "
             "i=tarfile.TarInfo('../escaped'); i.size=3; t.addfile(i, io.BytesIO(b'bad')); t.close()\" %s%s",
             tarball, "");
}

static void test_options(void) {
  knast_apply_options apply;
  knast_rootfs_options rootfs;
  knast_unpack_options unpack;
  CHECK(knast_apply_options_init(&apply, KNAST_APPLY_OPTIONS_VERSION) == KNAST_OK);
  CHECK(apply.max_bytes == UINT64_C(68719476736) && apply.owners == -1 && apply.allow_devices == 0);
  CHECK(knast_apply_options_init(&apply, 99) == KNAST_EINVALID);
  CHECK(knast_rootfs_options_init(&rootfs, KNAST_ROOTFS_OPTIONS_VERSION) == KNAST_OK);
  CHECK(rootfs.driver == NULL && rootfs.apply.version == KNAST_APPLY_OPTIONS_VERSION);
  CHECK(knast_unpack_options_init(&unpack, KNAST_UNPACK_OPTIONS_VERSION) == KNAST_OK);
  CHECK(unpack.platform == NULL && unpack.progress == NULL);
}

static void test_apply(void) {
  knast_apply_report report;
  knast_apply_options opts = KNAST_APPLY_OPTIONS_INIT;
  char layer[512], root[512], file[512], hostile[512], escaped[512];
  path_in(layer, sizeof layer, "layer.tar");
  path_in(root, sizeof root, "applied");
  path_in(file, sizeof file, "applied/etc/motd");
  path_in(hostile, sizeof hostile, "hostile.tar");
  path_in(escaped, sizeof escaped, "escaped");
  CHECK(make_layer(layer) == 0);
  CHECK(make_hostile_layer(hostile) == 0);
  CHECK(mkdir(root, 0755) == 0);

  memset(&report, 0, sizeof report);
  CHECK(knast_apply_layer(&report, root, layer, NULL, &opts) == KNAST_OK);
  CHECK(report.entries >= 4 && report.bytes == 11);
  CHECK(exists(file));
  /* The compression named by a media type must be the one found. */
  CHECK(knast_apply_layer(NULL, root, layer, "application/vnd.oci.image.layer.v1.tar+gzip", NULL) ==
        KNAST_EINTEGRITY);
  /* Whatever the verdict on "../escaped", nothing appears beside the root. */
  knast_apply_layer(NULL, root, hostile, NULL, NULL);
  CHECK(!exists(escaped));
  opts.max_entries = 1;
  CHECK(knast_apply_layer(NULL, root, layer, NULL, &opts) == KNAST_ELIMIT);
  CHECK(knast_apply_layer(NULL, NULL, layer, NULL, NULL) == KNAST_EINVALID);
}

/* Version 2 of the apply options: an ELF index that brand_tree() then uses. */
static void test_elf_index(void) {
  knast_apply_options opts = KNAST_APPLY_OPTIONS_INIT;
  knast_brand_options brand = KNAST_BRAND_OPTIONS_INIT;
  knast_brand_report *report = NULL;
  char layer[512], root[512], index[512];
  path_in(layer, sizeof layer, "layer.tar");
  path_in(root, sizeof root, "indexed");
  path_in(index, sizeof index, "indexed.elf-index");
  CHECK(mkdir(root, 0755) == 0);
  opts.elf_index = index;
  CHECK(knast_apply_layer(NULL, root, layer, NULL, &opts) == KNAST_OK);
  CHECK(exists(index));

  brand.operation = KNAST_BRAND_SCAN;
  brand.elf_index = index;
  CHECK(knast_brand_tree(&report, root, &brand) == KNAST_OK);
  CHECK(knast_brand_report_count(report, KNAST_BRAND_SCANNED) == 2);
  CHECK(knast_brand_report_count(report, KNAST_BRAND_KNOWN_NOT_ELF) == 2); /* bin/hello, etc/motd: text */
  knast_brand_report_free(report);
  brand.elf_index = layer; /* not an index */
  CHECK(knast_brand_tree(&report, root, &brand) == KNAST_EINVALID);
  CHECK(report == NULL);
}

/* A caller built against version 1 passes the shorter struct: still accepted. */
static void test_apply_options_v1(void) {
  struct apply_options_v1 {
    unsigned int version;
    uint64_t max_bytes;
    uint64_t max_entries;
    int allow_devices;
    int owners;
    int no_xattrs;
  } v1 = {1, UINT64_C(68719476736), 10000000, 0, -1, 0};
  char layer[512], root[512];
  path_in(layer, sizeof layer, "layer.tar");
  path_in(root, sizeof root, "applied-v1");
  CHECK(mkdir(root, 0755) == 0);
  CHECK(knast_apply_layer(NULL, root, layer, NULL, (const knast_apply_options *)&v1) == KNAST_OK);
}

static void test_chain_id(void) {
  const char *one[] = {"sha256:0000000000000000000000000000000000000000000000000000000000000000"};
  char *id = NULL;
  CHECK(knast_chain_id(&id, one, 1) == KNAST_OK);
  CHECK(id != NULL && strcmp(id, one[0]) == 0);
  knast_string_free(id);
  CHECK(knast_chain_id(&id, one, 0) == KNAST_EINVALID && id == NULL);
}

static void test_cache(void) {
  knast_image_store *store = NULL;
  knast_rootfs *rootfs = NULL;
  char state[512], store_root[512], layer[512], changed[512], diff[512];
  char *digest = NULL, *chain = NULL, *path = NULL, *json = NULL, *root = NULL, *layer_digest = NULL, *diff_id = NULL;
  int removed = 0;
  size_t pruned = 99;
  uint64_t freed = 0;
  knast_rootfs_options bad = KNAST_ROOTFS_OPTIONS_INIT;

  path_in(state, sizeof state, "state");
  path_in(store_root, sizeof store_root, "state/store");
  path_in(layer, sizeof layer, "layer.tar");
  path_in(diff, sizeof diff, "diff.tar.gz");
  CHECK(knast_image_store_open(&store, store_root, NULL) == KNAST_OK);
  CHECK(knast_image_store_import(&digest, store, layer, "hello:1", NULL) == KNAST_OK);

  bad.driver = "floppy";
  CHECK(knast_rootfs_open(&rootfs, state, &bad) == KNAST_EINVALID && rootfs == NULL);
  CHECK(knast_rootfs_open(&rootfs, state, NULL) == KNAST_OK);
  CHECK(knast_rootfs_unpack(&chain, &path, rootfs, store, "hello:1", NULL) == KNAST_OK);
  CHECK(chain != NULL && strncmp(chain, "sha256:", 7) == 0);
  CHECK(knast_rootfs_unpack(&chain, NULL, rootfs, store, "nothere:1", NULL) == KNAST_ENOTFOUND && chain == NULL);
  CHECK(knast_rootfs_unpack(&chain, NULL, rootfs, store, "hello:1", NULL) == KNAST_OK);
  CHECK(knast_rootfs_list(&json, rootfs) == KNAST_OK);
  CHECK(json != NULL && strstr(json, chain) != NULL);
  CHECK(json != NULL && strstr(json, "/elf-index\"") != NULL); /* each chain keeps an ELF index */
  knast_string_free(json);

  CHECK(knast_rootfs_create(&root, rootfs, chain, "c1", NULL) == KNAST_OK);
  CHECK(knast_rootfs_create(NULL, rootfs, chain, "c1", NULL) == KNAST_EEXISTS);
  snprintf(changed, sizeof changed, "%s/etc/motd", root);
  CHECK(exists(changed));
  CHECK(run("echo changed > %s%s", changed, "") == 0);
  CHECK(knast_rootfs_containers(&json, rootfs) == KNAST_OK);
  CHECK(json != NULL && strstr(json, "\"c1\"") != NULL);
  /* the copy has an ELF index of its own, beside its record */
  CHECK(json != NULL && strstr(json, "/c1/elf-index\"") != NULL);
  knast_string_free(json);
  CHECK(knast_rootfs_diff(&layer_digest, &diff_id, rootfs, "c1", diff, KNAST_LAYER_GZIP) == KNAST_OK);
  CHECK(layer_digest != NULL && diff_id != NULL && strcmp(layer_digest, diff_id) != 0);
  CHECK(knast_rootfs_diff(NULL, NULL, rootfs, "c1", diff, 7) == KNAST_EINVALID);

  /* A chain in use survives prune; once its container is gone it does not. */
  CHECK(knast_rootfs_prune(&pruned, &freed, rootfs, 0) == KNAST_OK && pruned == 0);
  CHECK(knast_rootfs_remove(&removed, rootfs, "c1") == KNAST_OK && removed == 1);
  CHECK(!exists(root));
  CHECK(knast_rootfs_remove(&removed, rootfs, "c1") == KNAST_OK && removed == 0);
  CHECK(knast_rootfs_prune(&pruned, &freed, rootfs, 1) == KNAST_OK && pruned == 1);
  CHECK(knast_rootfs_prune(&pruned, &freed, rootfs, 0) == KNAST_OK && pruned == 1 && freed > 0);
  CHECK(!exists(path));

  knast_string_free(digest);
  knast_string_free(chain);
  knast_string_free(path);
  knast_string_free(root);
  knast_string_free(layer_digest);
  knast_string_free(diff_id);
  knast_rootfs_free(rootfs);
  knast_image_store_free(store);
}

int main(void) {
  int status;
  if (make_scratch_dir(dir, sizeof dir, "rootfs") != 0) return 2;
  test_options();
  test_apply();
  test_elf_index();
  test_apply_options_v1();
  test_chain_id();
  test_cache();
  status = REPORT();
  remove_scratch_dir(dir);
  return status;
}
