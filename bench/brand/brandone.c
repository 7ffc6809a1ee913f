/* brandone FILE: what `brandelf -t Linux FILE` does, as small as it gets: open the file,
 * read its ELF identification, write EI_OSABI = 3 (ELFOSABI_LINUX) when it differs.
 * Non-ELF files are left alone (exit 1, as brandelf fails on them). The naive peer of
 * bench/brand: `find DIR -type f -exec brandone {} \;`. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  unsigned char ident[16];
  unsigned char linux_abi = 3;
  int fd;
  if (argc != 2) return 2;
  fd = open(argv[1], O_RDWR);
  if (fd < 0) return 1;
  if (read(fd, ident, sizeof ident) != (ssize_t)sizeof ident || memcmp(ident, "\177ELF", 4) != 0) {
    close(fd);
    return 1;
  }
  if (ident[7] != linux_abi && pwrite(fd, &linux_abi, 1, 7) != 1) {
    close(fd);
    return 1;
  }
  return close(fd) == 0 ? 0 : 1;
}
