/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* TCP transactions for the benchmark: request/response and connect/request/response. */
#ifndef VNAT_BENCH_TCPRR_H
#define VNAT_BENCH_TCPRR_H

#include <signal.h>

int vb_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Set by SIGTERM/SIGINT once vb_stop_on_signals() ran (SIGPIPE ignored). */
extern volatile sig_atomic_t vb_stop;
void vb_stop_on_signals(void);
double vb_mono(void); /* CLOCK_MONOTONIC in seconds */
int vb_tcp_server(int argc, char **argv);
int vb_tcp_client(int argc, char **argv);
/* udpflows.c: every datagram a new 5-tuple, for new flows per second. */
int vb_udp_flows(int argc, char **argv);

#endif /* VNAT_BENCH_TCPRR_H */
