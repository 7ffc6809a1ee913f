/* Networks through the C ABI, as strict C99, run by ctest under `unshare --net` (a network
 * namespace of its own: nothing here touches the machine's network). Port parsing, the
 * options versions, a bridge network made, listed, inspected and refused removal while a
 * container is on it, the container's endpoint and network plan, a container made with
 * version-1 options (no network fields), and bad input. Prints "N passed, M failed". */
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include "check.h"
#include "scratch_dir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONTAINS(text, part) ((text) != NULL && strstr((text), (part)) != NULL)

static char dir[64];
static char state_root[128];
static char bundle[128];

static const char *busybox_config =
    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},"
    "\"config\":{\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"sleep\",\"100\"]}}";

static void make_bundle(void) {
  char command[2048], rootfs[128];
  char *config = NULL;
  knast_run_overrides opts = KNAST_RUN_OVERRIDES_INIT;
  snprintf(rootfs, sizeof rootfs, "%s/rootfs", dir);
  snprintf(command, sizeof command,
           "mkdir -p %s/etc %s/bin %s/proc %s/dev %s/sys && echo 'root:x:0:0::/:/bin/sh' > %s/etc/passwd && "
           "echo 'root:x:0:' > %s/etc/group && cp /bin/busybox %s/bin/ && ln -s busybox %s/bin/sleep",
           rootfs, rootfs, rootfs, rootfs, rootfs, rootfs, rootfs, rootfs, rootfs);
  CHECK(system(command) == 0);
  CHECK(knast_make_run_spec(&config, busybox_config, rootfs, &opts) == KNAST_OK);
  snprintf(bundle, sizeof bundle, "%s/bundle", dir);
  CHECK(knast_write_bundle(bundle, config) == KNAST_OK);
  knast_string_free(config);
}

static void test_ports(void) {
  char *json = NULL;
  CHECK(knast_parse_port_mappings(&json, "127.0.0.1:8000-8001:80-81/udp") == KNAST_OK);
  CHECK(CONTAINS(json, "\"host_port\": 8001") || CONTAINS(json, "\"host_port\":8001"));
  CHECK(CONTAINS(json, "udp") && CONTAINS(json, "127.0.0.1"));
  knast_string_free(json);
  CHECK(knast_parse_port_mappings(&json, "80") == KNAST_OK);  /* any free host port: 0 until joined */
  CHECK(CONTAINS(json, "\"host_port\": 0") || CONTAINS(json, "\"host_port\":0"));
  knast_string_free(json);
  json = NULL;
  CHECK(knast_parse_port_mappings(&json, "8080-8081:80") == KNAST_EINVALID && json == NULL);
  CHECK(CONTAINS(knast_last_error()->message, "equal length"));
  CHECK(knast_parse_port_mappings(&json, "8080:80/sctp") == KNAST_EINVALID);
  CHECK(knast_parse_port_mappings(NULL, "8080:80") == KNAST_EINVALID);
}

static void test_options(void) {
  knast_network_options net;
  knast_jail_options jail;
  CHECK(knast_network_options_init(&net, KNAST_NETWORK_OPTIONS_VERSION) == KNAST_OK && net.nat == 1);
  CHECK(knast_network_options_init(&net, 99) == KNAST_EINVALID);
  CHECK(knast_jail_options_init(&jail, 1) == KNAST_OK && jail.version == 1);
  CHECK(knast_jail_options_init(&jail, 2) == KNAST_OK && jail.network == NULL && jail.ports_count == 0);
}

/* A version-1 caller's struct ends before the network fields: model it with garbage there. */
static void test_version1_jail_options(void) {
  knast_jail_options opts = KNAST_JAIL_OPTIONS_INIT;
  knast_jail *jail = NULL;
  opts.version = 1;
  opts.state_root = state_root;
  opts.bundle = bundle;
  opts.stdio.mode = KNAST_STDIO_NULL;
  opts.network = "not read for version 1";
  opts.ports_count = 12345;
  if (knast_jail_create(&jail, &opts) != KNAST_OK) {
    printf("containers SKIPPED: %s\n", knast_last_error()->message);
    return;
  }
  CHECK(knast_jail_remove(jail, 1) == KNAST_OK);
  knast_jail_free(jail);
}

static void test_network(void) {
  knast_network_options opts = KNAST_NETWORK_OPTIONS_INIT;
  knast_jail_options jail_opts = KNAST_JAIL_OPTIONS_INIT;
  const char *ports[] = {"8080:80"};
  knast_network *network = NULL, *again = NULL, *missing = NULL;
  knast_jail *jail = NULL;
  char *json = NULL;

  opts.state_root = state_root;
  opts.name = "cnet";
  opts.subnet = "10.66.0.0/24";
  if (knast_network_create(&network, &opts) != KNAST_OK) {
    printf("networks SKIPPED: %s\n", knast_last_error()->message);
    return;
  }
  CHECK(knast_network_config(&json, network) == KNAST_OK && CONTAINS(json, "10.66.0.0/24") && CONTAINS(json, "10.66.0.1"));
  knast_string_free(json);
  CHECK(knast_network_create(&missing, &opts) == KNAST_EEXISTS && missing == NULL);
  CHECK(knast_network_list(&json, state_root) == KNAST_OK && CONTAINS(json, "\"cnet\""));
  knast_string_free(json);
  CHECK(knast_network_open(&again, state_root, "cnet") == KNAST_OK);
  CHECK(knast_network_open(&missing, state_root, "nope") == KNAST_ENOTFOUND && missing == NULL);

  jail_opts.state_root = state_root;
  jail_opts.bundle = bundle;
  jail_opts.id = "cnet0000";
  jail_opts.stdio.mode = KNAST_STDIO_NULL;
  jail_opts.network = "cnet";
  jail_opts.ports = ports;
  jail_opts.ports_count = 1;
  if (knast_jail_create(&jail, &jail_opts) == KNAST_OK) {
    CHECK(knast_container_endpoint(&json, state_root, "cnet0000") == KNAST_OK && CONTAINS(json, "10.66.0.2"));
    knast_string_free(json);
    CHECK(knast_network_endpoints(&json, network) == KNAST_OK && CONTAINS(json, "cnet0000"));
    knast_string_free(json);
    CHECK(knast_network_plan(&json, state_root, "cnet0000", "freebsd", KNAST_PLAN_TEXT) == KNAST_OK);
    CHECK(CONTAINS(json, "epair") && CONTAINS(json, "rdr"));
    knast_string_free(json);
    CHECK(knast_network_plan(&json, state_root, "cnet0000", "linux", KNAST_PLAN_JSON) == KNAST_OK &&
          CONTAINS(json, "dnat"));
    knast_string_free(json);
    CHECK(knast_network_plan(&json, state_root, "cnet0000", "linux", 99) == KNAST_EINVALID);
    CHECK(knast_network_remove(again) == KNAST_EINVALID);
    CHECK(CONTAINS(knast_last_error()->message, "cnet0000"));
    CHECK(knast_jail_remove(jail, 1) == KNAST_OK);
    knast_jail_free(jail);
  } else {
    printf("containers SKIPPED: %s\n", knast_last_error()->message);
  }
  CHECK(knast_container_endpoint(&json, state_root, "cnet0000") == KNAST_OK && strcmp(json, "null") == 0);
  knast_string_free(json);
  CHECK(knast_network_remove(again) == KNAST_OK);
  knast_network_free(again);
  knast_network_free(network);
  CHECK(knast_network_list(&json, state_root) == KNAST_OK && strcmp(json, "[]") == 0);
  knast_string_free(json);
}

static void test_bad_input(void) {
  knast_network *network = NULL;
  knast_network_options opts = KNAST_NETWORK_OPTIONS_INIT;
  char *json = NULL;
  CHECK(knast_network_create(&network, NULL) == KNAST_EINVALID);
  opts.state_root = state_root;
  opts.name = "bad";
  opts.driver = "macvlan";
  CHECK(knast_network_create(&network, &opts) == KNAST_EINVALID && network == NULL);
  opts.driver = NULL;
  opts.subnet = "10.1.2.3/33";
  CHECK(knast_network_create(&network, &opts) == KNAST_EINVALID);
  CHECK(knast_network_config(&json, NULL) == KNAST_EINVALID);
  CHECK(knast_network_remove(NULL) == KNAST_EINVALID);
  knast_network_free(NULL);
}

int main(void) {
  if (make_scratch_dir(dir, sizeof dir, "network") != 0) return 2;
  snprintf(state_root, sizeof state_root, "%s/state", dir);
  make_bundle();
  test_ports();
  test_options();
  test_bad_input();
  if (geteuid() == 0) {
    test_version1_jail_options();
    test_network();
  } else {
    printf("networks SKIPPED: they need root\n");
  }
  remove_scratch_dir(dir);
  return REPORT();
}
