/* The Linuxulator's C ABI from strict C99: run decisions and refusals, the plan in both
 * formats, branding a small tree (a crafted static ELF) and undoing it, and options. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK_STR(actual, expected) CHECK((actual) != NULL && strcmp((actual), (expected)) == 0)

static void test_decide(void) {
  uint32_t method = 0;
  char *why = NULL;
  CHECK(knast_run_decide(&method, &why, "linux/amd64", "freebsd/amd64") == KNAST_OK);
  CHECK(method == KNAST_RUN_LINUXULATOR_JAIL);
  CHECK(why != NULL && strstr(why, "Linuxulator (linux64)") != NULL);
  knast_string_free(why);

  CHECK(knast_run_decide(&method, NULL, "freebsd/amd64", "freebsd/amd64") == KNAST_OK);
  CHECK(method == KNAST_RUN_FREEBSD_JAIL);
  CHECK(knast_run_decide(&method, NULL, "linux/amd64", "linux/amd64") == KNAST_OK);
  CHECK(method == KNAST_RUN_LINUX_NAMESPACES);

  CHECK(knast_run_decide(&method, NULL, "freebsd/amd64", "linux/amd64") == KNAST_EUNSUPPORTED);
  CHECK_STR(knast_last_error()->message,
            "cannot run a freebsd/amd64 image on a linux/amd64 host: FreeBSD binaries need a FreeBSD kernel; run it on "
            "a FreeBSD host");
  CHECK(knast_run_decide(&method, NULL, "not a platform!", NULL) == KNAST_EINVALID);
  CHECK(knast_run_decide(NULL, NULL, "linux/amd64", NULL) == KNAST_EINVALID);
}

static void test_plan(void) {
  char *json = NULL;
  char *text = NULL;
  knast_linux_plan_options opts = KNAST_LINUX_PLAN_OPTIONS_INIT;
  CHECK(knast_linux_plan(&json, "linux/amd64", KNAST_PLAN_JSON, NULL) == KNAST_OK);
  CHECK(json != NULL && strstr(json, "\"linux64\"") != NULL && strstr(json, "\"linrdlnk\"") != NULL);
  knast_string_free(json);

  opts.osrelease = "6.1.0";
  opts.hostname = "c-host";
  opts.devfs_ruleset = 77;
  CHECK(knast_linux_plan(&text, "linux/386", KNAST_PLAN_TEXT, &opts) == KNAST_OK);
  CHECK(text != NULL && strstr(text, "kldload -n linux ") != NULL);
  CHECK(text != NULL && strstr(text, "linux.osrelease = \"6.1.0\";") != NULL);
  CHECK(text != NULL && strstr(text, "mount -t devfs -o nosuid,ruleset=77 devfs $root/dev") != NULL);
  knast_string_free(text);

  CHECK(knast_linux_plan(&json, "freebsd/amd64", KNAST_PLAN_JSON, NULL) == KNAST_EINVALID);
  CHECK(json == NULL);
  CHECK(knast_linux_plan(&json, "linux/amd64", 9, NULL) == KNAST_EINVALID);
  opts.osrelease = "new";
  CHECK(knast_linux_plan(&json, "linux/amd64", KNAST_PLAN_JSON, &opts) == KNAST_EINVALID);

  CHECK(knast_linux_plan_options_init(&opts, KNAST_LINUX_PLAN_OPTIONS_VERSION) == KNAST_OK);
  CHECK(opts.osrelease == NULL && opts.devfs_ruleset == 0);
  CHECK(knast_linux_plan_options_init(&opts, 99) == KNAST_EINVALID);
  opts.version = 99;
  CHECK(knast_linux_plan(&json, "linux/amd64", KNAST_PLAN_JSON, &opts) == KNAST_EINVALID);
}

/* A 64-bit static ELF executable: an ELF header with no program headers, EI_OSABI 0. */
static void write_static_elf(const char *path) {
  unsigned char bytes[64];
  FILE *f;
  memset(bytes, 0, sizeof bytes);
  memcpy(bytes, "\177ELF", 4);
  bytes[4] = 2;  /* ELFCLASS64 */
  bytes[5] = 1;  /* little-endian */
  bytes[6] = 1;  /* EV_CURRENT */
  bytes[16] = 2; /* ET_EXEC */
  bytes[18] = 62;
  bytes[20] = 1;
  bytes[52] = 64; /* e_ehsize */
  bytes[54] = 56; /* e_phentsize */
  f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f) {
    fwrite(bytes, 1, sizeof bytes, f);
    fclose(f);
  }
  chmod(path, 0755);
}

static int osabi_of(const char *path) {
  unsigned char bytes[8];
  FILE *f = fopen(path, "rb");
  size_t n;
  if (!f) return -1;
  n = fread(bytes, 1, sizeof bytes, f);
  fclose(f);
  return n == sizeof bytes ? bytes[7] : -1;
}

static void test_brand(void) {
  char dir[] = "/tmp/knast-c-brand.XXXXXX";
  char tree[64], file[96], record[96], script[96];
  knast_brand_options opts = KNAST_BRAND_OPTIONS_INIT;
  knast_brand_report *report = NULL;
  FILE *f;

  CHECK(mkdtemp(dir) != NULL);
  snprintf(tree, sizeof tree, "%s/tree", dir);
  snprintf(file, sizeof file, "%s/static", tree);
  snprintf(script, sizeof script, "%s/script", tree);
  snprintf(record, sizeof record, "%s/tree.knast-brand.json", dir);
  CHECK(mkdir(tree, 0755) == 0);
  write_static_elf(file);
  f = fopen(script, "w");
  if (f) {
    fputs("#!/bin/sh\n", f);
    fclose(f);
  }

  opts.elf64_fallback_brand = -1; /* a FreeBSD kernel's default, whatever this host is */
  opts.elf32_fallback_brand = -1;
  opts.operation = KNAST_BRAND_SCAN;
  CHECK(knast_brand_tree(&report, tree, &opts) == KNAST_OK);
  CHECK(knast_brand_report_count(report, KNAST_BRAND_SCANNED) == 2);
  CHECK(knast_brand_report_count(report, KNAST_BRAND_ELF) == 1);
  CHECK(knast_brand_report_count(report, KNAST_BRAND_NEEDS_BRAND) == 1);
  CHECK(knast_brand_report_count(report, KNAST_BRAND_BRANDED) == 0);
  CHECK(knast_brand_report_count(report, 999) == 0);
  CHECK(osabi_of(file) == 0);
  knast_brand_report_free(report);

  opts.operation = KNAST_BRAND_APPLY;
  CHECK(knast_brand_tree(&report, tree, &opts) == KNAST_OK);
  CHECK(knast_brand_report_count(report, KNAST_BRAND_BRANDED) == 1);
  CHECK(strstr(knast_brand_report_json(report), "\"branded\": 1") != NULL);
  CHECK(osabi_of(file) == 3);
  CHECK(access(record, F_OK) == 0);
  knast_brand_report_free(report);

  opts.operation = KNAST_BRAND_UNDO;
  CHECK(knast_brand_tree(&report, tree, &opts) == KNAST_OK);
  CHECK(knast_brand_report_count(report, KNAST_BRAND_RESTORED) == 1);
  CHECK(osabi_of(file) == 0);
  CHECK(access(record, F_OK) != 0);
  knast_brand_report_free(report);

  CHECK(knast_brand_tree(&report, tree, &opts) == KNAST_ENOTFOUND);
  CHECK(report == NULL);
  opts.operation = 7;
  CHECK(knast_brand_tree(&report, tree, &opts) == KNAST_EINVALID);
  CHECK(knast_brand_tree(&report, "/nonexistent/knast", NULL) == KNAST_ENOTFOUND);
  CHECK(knast_brand_options_init(&opts, KNAST_BRAND_OPTIONS_VERSION) == KNAST_OK);
  CHECK(opts.mode == KNAST_BRAND_AUTO && opts.elf64_fallback_brand == KNAST_BRAND_FALLBACK_HOST);
  knast_brand_report_free(NULL);

  /* prepare_root makes the mount points; preflight needs FreeBSD here. */
  CHECK(knast_linux_prepare_root(tree, "linux/amd64", NULL) == KNAST_OK);
  snprintf(file, sizeof file, "%s/proc", tree);
  CHECK(access(file, F_OK) == 0);
  {
    char *host = NULL;
    CHECK(knast_platform_host(&host) == KNAST_OK);
    if (host != NULL && strncmp(host, "freebsd/", 8) != 0)
      CHECK(knast_linux_preflight(tree, "linux/amd64", NULL, 0) == KNAST_EUNSUPPORTED);
    knast_string_free(host);
  }

  {
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    CHECK(system(command) == 0);
  }
}

int main(void) {
  test_decide();
  test_plan();
  test_brand();
  return REPORT();
}
