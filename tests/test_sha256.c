/* test_sha256.c -- src/sha256.c against the published examples of FIPS
 * 180-2 (one block, two blocks, 896 bits, a million 'a's, and the empty
 * message), then against coreutils' sha256sum on files of every length
 * around the padding's edges (55, 56, 63, 64 bytes mod 64) and larger ones,
 * and fed in pieces of every size the same as in one piece. */
#include "check.h"
#include "sha256.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void digest_of(const void *data, size_t n, char hex[SHA256_HEX_LEN])
{
    struct sha256 s;
    sha256_init(&s);
    sha256_update(&s, data, n);
    sha256_final(&s, hex);
}

static void test_vectors(void)
{
    static const struct {
        const char *what, *msg, *digest;
    } v[] = {
        {"the empty message", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"\"abc\" (one block)", "abc",
         "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"the 448-bit message (two blocks)",
         "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"the 896-bit message",
         "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopq"
         "rsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    char hex[SHA256_HEX_LEN];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        digest_of(v[i].msg, strlen(v[i].msg), hex);
        CHECK(!strcmp(hex, v[i].digest), "FIPS 180-2 example, %s: %s", v[i].what, hex);
    }
    /* a million 'a's, given 1000 at a time as a download arrives */
    char a[1000];
    memset(a, 'a', sizeof a);
    struct sha256 s;
    sha256_init(&s);
    for (int i = 0; i < 1000; i++)
        sha256_update(&s, a, sizeof a);
    sha256_final(&s, hex);
    CHECK(!strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
          "FIPS 180-2 example, a million 'a's in 1000 pieces: %s", hex);
}

/* Pieces of every size from 1 to 130 give the one-piece digest. */
static void test_pieces(void)
{
    enum { N = 1000 };
    unsigned char *m = malloc(N);
    frand_seed(256);
    for (int i = 0; i < N; i++)
        m[i] = (unsigned char)(frand() * 128 + 128);
    char whole[SHA256_HEX_LEN], hex[SHA256_HEX_LEN];
    digest_of(m, N, whole);
    int same = 0;
    for (size_t piece = 1; piece <= 130; piece++) {
        struct sha256 s;
        sha256_init(&s);
        for (size_t at = 0; at < N; at += piece)
            sha256_update(&s, m + at, at + piece <= N ? piece : N - at);
        sha256_final(&s, hex);
        same += !strcmp(hex, whole);
    }
    CHECK(same == 130, "1000 bytes in pieces of 1 to 130 bytes: the one-piece digest %d of 130 times",
          same);
    free(m);
}

/* sha256_file against /usr/bin/sha256sum, on random files of many lengths. */
static void test_against_sha256sum(void)
{
    if (access("/usr/bin/sha256sum", X_OK) != 0) {
        SKIP("sha256_file against sha256sum: /usr/bin/sha256sum not installed (coreutils)");
        return;
    }
    char dir[] = "/tmp/resnet_test_sha256_XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0, "cannot make a temporary folder");
        return;
    }
    static const size_t big[] = {1000, 4095, 4096, 65535, 65536, 65537, 1 << 20, 3000017};
    size_t lengths[160];
    int n = 0;
    for (size_t len = 0; len <= 130; len++)
        lengths[n++] = len;
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        lengths[n++] = big[i];
    int agree = 0, files = 0;
    char path[128], cmd[256], theirs[80], ours[SHA256_HEX_LEN], first_bad[200] = "";
    frand_seed(180);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/f%zu", dir, lengths[i]);
        FILE *f = fopen(path, "wb");
        for (size_t k = 0; f && k < lengths[i]; k++)
            fputc((int)(frand() * 128 + 128), f);
        if (!f || fclose(f) != 0)
            continue;
        snprintf(cmd, sizeof cmd, "/usr/bin/sha256sum '%s'", path);
        FILE *p = popen(cmd, "r");
        int got = p && fscanf(p, "%64s", theirs) == 1;
        if (p)
            pclose(p);
        struct err e = {{0}};
        if (got && sha256_file(path, ours, &e) == 0) {
            files++;
            if (!strcmp(ours, theirs))
                agree++;
            else if (!first_bad[0])
                snprintf(first_bad, sizeof first_bad, "; %zu bytes: %s, sha256sum %s", lengths[i],
                         ours, theirs);
        }
        unlink(path);
    }
    rmdir(dir);
    CHECK(files == n && agree == n, "sha256_file as sha256sum on %d of %d files of 0 to 130 bytes and "
          "8 from 1000 to 3000017%s", agree, n, first_bad);
    struct err e = {{0}};
    CHECK(sha256_file("/nonexistent/file", ours, &e) == -1 && strstr(e.msg, "/nonexistent/file"),
          "a missing file: -1 naming it (%s)", e.msg);
}

int main(void)
{
    test_vectors();
    test_pieces();
    test_against_sha256sum();
    return CHECK_DONE();
}
