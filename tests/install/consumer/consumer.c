/* Uses the installed C ABI: prints the normalised form of its argument. */
#include <knast/knast.h>

#include <stdio.h>

int main(int argc, char **argv) {
  knast_reference *ref = NULL;
  if (knast_reference_parse(&ref, argc > 1 ? argv[1] : "alpine") != KNAST_OK) {
    fprintf(stderr, "%s\n", knast_last_error()->message);
    return 1;
  }
  printf("%s\n", knast_reference_string(ref));
  knast_reference_free(ref);
  return 0;
}
