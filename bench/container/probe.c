/*
 * The container side of `npm run bench -- isolation`: the same small workload as Berth's
 * `hello` fixture (add two u32) plus the boundary probes, in one static binary so the rootfs
 * holds nothing else. Built with `gcc -static` at bench time; one line of output per run.
 *
 *   add A B         print A+B (the workload)
 *   pause           wait for a signal (a resident container for exec and memory figures)
 *   read PATH       "allowed" or "denied <errno>" for opening and reading PATH
 *   net PORT        "allowed" or "denied <errno>" for a TCP connection to 127.0.0.1:PORT
 *   env NAME        "allowed" if NAME is in the environment, else "denied none"
 *   spin MS         busy loop for MS ms of wall time; print "cpu <cpu ms> wall <wall ms>"
 *   alloc CAP_MIB   malloc and touch 1 MiB at a time up to CAP_MIB; print "reached <n>" or "refused <n>"
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double ms(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int denied(int err) {
    printf("denied %s\n", strerror(err));
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) { fprintf(stderr, "usage: probe MODE ...\n"); return 2; }
    const char *mode = argv[1];
    const char *arg = argc > 2 ? argv[2] : "";
    if (strcmp(mode, "add") == 0 && argc > 3) {
        unsigned a = (unsigned)strtoul(argv[2], NULL, 10), b = (unsigned)strtoul(argv[3], NULL, 10);
        printf("%u\n", a + b);
        return 0;
    }
    if (strcmp(mode, "pause") == 0) { pause(); return 0; }
    if (strcmp(mode, "read") == 0) {
        char buf[64];
        int fd = open(arg, O_RDONLY);
        if (fd < 0) return denied(errno);
        ssize_t n = read(fd, buf, sizeof buf);
        int err = errno;
        close(fd);
        if (n < 0) return denied(err);
        printf("allowed\n");
        return 0;
    }
    if (strcmp(mode, "net") == 0) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0) return denied(errno);
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(arg)) };
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) return denied(errno);
        printf("allowed\n");
        close(s);
        return 0;
    }
    if (strcmp(mode, "env") == 0) {
        if (getenv(arg)) printf("allowed\n");
        else printf("denied none\n");
        return 0;
    }
    if (strcmp(mode, "spin") == 0) {
        double until = ms(CLOCK_MONOTONIC) + atof(arg), start = ms(CLOCK_MONOTONIC);
        volatile unsigned long x = 0;
        while (ms(CLOCK_MONOTONIC) < until) x++;
        printf("cpu %.0f wall %.0f\n", ms(CLOCK_PROCESS_CPUTIME_ID), ms(CLOCK_MONOTONIC) - start);
        return 0;
    }
    if (strcmp(mode, "alloc") == 0) {
        long cap = atol(arg), n = 0;
        for (; n < cap; n++) {
            char *p = malloc(1 << 20);
            if (!p) { printf("refused %ld\n", n); return 0; }
            memset(p, 1, 1 << 20);
        }
        printf("reached %ld\n", n);
        return 0;
    }
    fprintf(stderr, "probe: unknown mode %s\n", mode);
    return 2;
}
