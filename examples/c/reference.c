/* Parses image references and digests through the C ABI and prints their parts.
 *
 *   knast-c-example alpine localhost:5000/app:1
 *
 * Exits 1 on the first invalid reference, printing knast_last_error()'s message. */
#include <knast/knast.h>

#include <stdio.h>

int main(int argc, char **argv) {
  int i;
  printf("libknast %s\n", knast_version());
  for (i = 1; i < argc; ++i) {
    knast_reference *ref = NULL;
    const char *tag;
    if (knast_reference_parse(&ref, argv[i]) != KNAST_OK) {
      const knast_error *err = knast_last_error();
      fprintf(stderr, "%s: %s (%s)\n", argv[i], err->message, knast_status_name(err->status));
      return 1;
    }
    tag = knast_reference_tag(ref);
    printf("%s -> %s (domain %s, path %s, tag %s, familiar %s)\n", argv[i], knast_reference_string(ref),
           knast_reference_domain(ref), knast_reference_path(ref), tag ? tag : "-", knast_reference_familiar(ref));
    knast_reference_free(ref);
  }
  return 0;
}
