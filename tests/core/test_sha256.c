/* test_sha256.c -- SHA-256 of the core (natives/core/sha256.c) against the
   FIPS 180-4 example vectors, every length around the 55/56/64-byte
   padding boundaries against the streaming file path, and the status and
   message for a file that is not there. */
#define SUITE "sha256"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core.h"

static int same(const char *msg, size_t n, const char *want) {
  char hex[65];
  hebb_sha256(msg, n, hex);
  return strcmp(hex, want) == 0;
}

int main(void) {
  static char big[1000000];
  char path[] = "/tmp/hebb_sha_XXXXXX", a[65], b[65];
  size_t n;
  int fd, ok = 1;
  CHECK("empty", same("", 0,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  CHECK("abc", same("abc", 3,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  CHECK("two_blocks", same("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
  memset(big, 'a', sizeof big);
  CHECK("million_a", same(big, sizeof big,
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
  /* the file path (64 KiB reads) agrees with the buffer for lengths that
     end anywhere in a block and across a read boundary */
  fd = mkstemp(path);
  if (fd < 0) return 2;
  close(fd);
  for (n = 0; n < 200 && ok; n++) {
    size_t len = n < 130 ? n : 65536 - 70 + n;
    FILE *f = fopen(path, "wb");
    fwrite(big, 1, len, f);
    fclose(f);
    hebb_sha256(big, len, a);
    ok = hebb_sha256_file(path, b) == HEBB_OK && strcmp(a, b) == 0;
  }
  CHECK("file_matches_buffer", ok);
  unlink(path);
  CHECK("missing_file_status", hebb_sha256_file(path, a) == HEBB_ERR_IO);
  CHECK("missing_file_message", strstr(hebb_last_error(), "sha256: cannot open") != NULL);
  return check_done();
}
