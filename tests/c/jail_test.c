/* The FreeBSD jail plan and containers through the C ABI, as strict C99. The plan: a
 * config made for a FreeBSD host rendered as JSON, text and jail.conf, jail names, and
 * refusals. Prints "N passed, M failed". */
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONTAINS(text, part) ((text) != NULL && strstr((text), (part)) != NULL)

static char dir[64];
static char rootfs[128];

static const char *busybox_config =
    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},"
    "\"config\":{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\"Cmd\":[\"sh\"]}}";

/* A busybox root: /bin/busybox (static) and its sh link, and a passwd of root. */
static void make_rootfs(void) {
  char command[2048];
  snprintf(rootfs, sizeof rootfs, "%s/rootfs", dir);
  snprintf(command, sizeof command,
           "mkdir -p %s/etc %s/bin %s/tmp && echo 'root:x:0:0:root:/root:/bin/sh' > %s/etc/passwd && "
           "echo 'root:x:0:' > %s/etc/group && cp /bin/busybox %s/bin/busybox && ln -s busybox %s/bin/sh",
           rootfs, rootfs, rootfs, rootfs, rootfs, rootfs, rootfs);
  CHECK(system(command) == 0);
}

/* The config.json text of busybox running @p args on @p host_os. */
static char *config_for(const char *host_os, const char *const *args, size_t count, const char *memory) {
  knast_run_overrides opts = KNAST_RUN_OVERRIDES_INIT;
  char *json = NULL;
  opts.container_id = "0123456789abcdef0123456789abcdef";
  opts.host_os = host_os;
  opts.args = args;
  opts.arg_count = count;
  opts.memory = memory;
  CHECK(knast_make_run_spec(&json, busybox_config, rootfs, &opts) == KNAST_OK);
  return json;
}

static void test_plan(void) {
  const char *args[] = {"sh", "-c", "echo hi"};
  char *config = config_for("freebsd", args, 3, NULL);
  knast_jail_plan_options opts = KNAST_JAIL_PLAN_OPTIONS_INIT;
  char *json = NULL, *text = NULL, *conf = NULL, *name = NULL;

  opts.container_id = "0123456789abcdef0123456789abcdef";
  opts.root_path = "/var/db/knast/rootfs/c1";
  CHECK(knast_plan_freebsd_jail(&json, config, KNAST_PLAN_JSON, &opts) == KNAST_OK);
  CHECK(CONTAINS(json, "\"knast-0123456789ab\""));
  CHECK(CONTAINS(json, "/var/db/knast/rootfs/c1"));
  CHECK(CONTAINS(json, "linux64")); /* a Linux image: the Linuxulator's module */
  CHECK(knast_plan_freebsd_jail(&text, config, KNAST_PLAN_TEXT, &opts) == KNAST_OK);
  CHECK(CONTAINS(text, "knast-0123456789ab"));
  CHECK(CONTAINS(text, "kldload"));
  CHECK(knast_plan_freebsd_jail(&conf, config, KNAST_PLAN_JAIL_CONF, &opts) == KNAST_OK);
  CHECK(CONTAINS(conf, "knast-0123456789ab {"));
  CHECK(CONTAINS(conf, "mount +="));
  CHECK(text != NULL && conf != NULL && strstr(text, conf) != NULL); /* the text ends with the stanza */
  knast_string_free(json);
  knast_string_free(text);
  knast_string_free(conf);

  /* The image platform given explicitly wins over the config's annotation. */
  opts.image_platform = "linux/386";
  CHECK(knast_plan_freebsd_jail(&json, config, KNAST_PLAN_JSON, &opts) == KNAST_OK);
  CHECK(CONTAINS(json, "\"linux\"") && !CONTAINS(json, "linux64"));
  knast_string_free(json);

  CHECK(knast_jail_name(&name, "0123456789abcdef") == KNAST_OK);
  CHECK(name != NULL && strcmp(name, "knast-0123456789ab") == 0);
  knast_string_free(name);
  CHECK(knast_jail_name(&name, "bad.id") == KNAST_EINVALID);
  CHECK(name == NULL);
  CHECK(knast_jail_name(NULL, "abc") == KNAST_EINVALID);

  /* Refusals: options, formats, JSON, what a FreeBSD host cannot do. */
  opts.image_platform = NULL;
  CHECK(knast_plan_freebsd_jail(&json, config, 9, &opts) == KNAST_EINVALID);
  CHECK(CONTAINS(knast_last_error()->message, "KNAST_PLAN_JAIL_CONF"));
  CHECK(knast_plan_freebsd_jail(&json, config, KNAST_PLAN_JSON, NULL) == KNAST_EINVALID);
  CHECK(knast_plan_freebsd_jail(&json, "{\"ociVersion\":", KNAST_PLAN_JSON, &opts) == KNAST_EINVALID);
  CHECK(knast_plan_freebsd_jail(&json, NULL, KNAST_PLAN_JSON, &opts) == KNAST_EINVALID);
  opts.image_platform = "windows/amd64";
  CHECK(knast_plan_freebsd_jail(&json, config, KNAST_PLAN_JSON, &opts) == KNAST_EUNSUPPORTED);
  opts.image_platform = NULL;
  opts.container_id = NULL;
  CHECK(knast_plan_freebsd_jail(&json, config, KNAST_PLAN_JSON, &opts) == KNAST_EINVALID);
  opts.container_id = "0123456789abcdef";
  opts.version = 2;
  CHECK(knast_plan_freebsd_jail(&json, config, KNAST_PLAN_JSON, &opts) == KNAST_EINVALID);
  CHECK(json == NULL);
  CHECK(knast_jail_plan_options_init(&opts, KNAST_JAIL_PLAN_OPTIONS_VERSION) == KNAST_OK);
  CHECK(opts.container_id == NULL && opts.include_32bit == 0);
  CHECK(knast_jail_plan_options_init(&opts, 7) == KNAST_EINVALID);
  knast_string_free(config);

  /* A config made for Linux has Linux mounts (proc, sysfs, ...) a jail cannot make. */
  config = config_for("linux", args, 3, NULL);
  opts.container_id = "0123456789abcdef";
  CHECK(knast_plan_freebsd_jail(&json, config, KNAST_PLAN_JSON, &opts) == KNAST_EINVALID);
  knast_string_free(config);
}

/* A memory limit becomes an rctl rule of the jail, in every rendering. */
static void test_plan_rctl(void) {
  const char *args[] = {"sh"};
  char *config = config_for("freebsd", args, 1, "512m");
  knast_jail_plan_options opts = KNAST_JAIL_PLAN_OPTIONS_INIT;
  char *json = NULL, *conf = NULL;
  opts.container_id = "0123456789abcdef";
  CHECK(knast_plan_freebsd_jail(&json, config, KNAST_PLAN_JSON, &opts) == KNAST_OK);
  CHECK(CONTAINS(json, "\"jail:knast-0123456789ab:memoryuse:deny=536870912\""));
  CHECK(knast_plan_freebsd_jail(&conf, config, KNAST_PLAN_JAIL_CONF, &opts) == KNAST_OK);
  CHECK(CONTAINS(conf, "jail:knast-0123456789ab:memoryuse:deny=536870912"));
  knast_string_free(json);
  knast_string_free(conf);
  knast_string_free(config);
}

int main(void) {
  char command[128];
  snprintf(dir, sizeof dir, "/tmp/knast-c-jail.XXXXXX");
  if (mkdtemp(dir) == NULL) return 2;
  make_rootfs();
  test_plan();
  test_plan_rctl();
  snprintf(command, sizeof command, "rm -rf %s", dir);
  if (system(command) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return REPORT();
}
