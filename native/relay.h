/*
 * What the two halves of the addon share: a relay owns pairs (a client socket and, once dialled,
 * its upstream). splice_relay.c moves the bytes of established pairs and holds the JS class;
 * front.c is the part of a connection's life before that: listening, accepting, reading the
 * ClientHello, dialling (see docs/splice-relay.md).
 */
#ifndef SPLICE_RELAY_H
#define SPLICE_RELAY_H

#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

/* Most listeners one relay holds. */
#define MAX_LISTENERS 16

enum { REASON_DONE, REASON_IDLE, REASON_ERROR, REASON_CLOSED };

/*
 * Where a pair is in its life. Pairs adopted from JavaScript sockets start in RELAY; pairs
 * accepted by the front start in HELLO (reading the client), go to ROUTE once JavaScript has the
 * hello (deciding, or resolving a host name), DIAL while connecting, RELAY once connected.
 */
enum { PHASE_HELLO, PHASE_ROUTE, PHASE_DIAL, PHASE_RELAY };

typedef struct relay relay;

/* One direction of a pair. */
typedef struct {
  int pipe_r, pipe_w; /* its pipe while it has one, else -1 */
  uint32_t pending;   /* bytes in that pipe, not yet written to the destination */
  uint8_t eof;        /* the source returned 0 */
  uint8_t shut;       /* EOF passed on: shutdown(destination, SHUT_WR) done */
  double bytes;       /* bytes written to the destination */
} direction;

typedef union {
  struct sockaddr sa;
  struct sockaddr_in in;
  struct sockaddr_in6 in6;
} address;

typedef struct pair pair;

struct pair {
  relay *relay;
  double id;
  uint64_t last_active; /* uv_now() of the last byte or EOF moved (or read, for the hello) */
  direction dir[2];     /* [0] client -> upstream, [1] upstream -> client */
  int fd[2];            /* [0] the client, [1] the upstream (-1 until dialled) */
  uint32_t slot;
  uint8_t interest[2]; /* EPOLLIN | EPOLLOUT each fd is registered for in the relay's epoll; 0: not registered */
  uint8_t adopted;     /* its fds are dups of JavaScript sockets' */
  uint8_t phase;
  uint8_t closing;
  uint8_t reason;
  int error; /* errno of an "error" close */
  /* Front only: the client's address, the hello bytes read (forwarded once dialled), when the dial began. */
  address peer;
  uint8_t *hello;
  uint32_t hello_length, hello_capacity;
  uint64_t deadline;   /* uv_now() by which the hello must be read, or the dial done */
  uint64_t dial_began; /* uv_hrtime() */
  pair *next_closed;   /* closed, waiting for its onClose */
};

typedef struct {
  int r, w;
} pipe_fds;

typedef struct {
  uv_poll_t poll;
  relay *relay;
  int fd;
  uint8_t closed; /* closing: its memory lives until the poll's close callback */
} listener;

/* Empty pipes kept for reuse per relay; past that they are closed. */
#define MAX_FREE_PIPES 64

struct relay {
  napi_env env;
  uv_loop_t *loop;
  /* The JS object, strong while pairs or listeners exist (so it outlives them), weak otherwise.
   * Its hidden properties onClose, onHello, onDialed and onOverLimit are the callbacks: held
   * there rather than by references of ours, so a callback that refers back to the relay is no leak. */
  napi_ref self;
  napi_async_context async;
  napi_async_cleanup_hook_handle hook;
  int epfd;          /* the relay's epoll instance: every fd of every pair */
  uv_poll_t events;  /* the event loop's watch on epfd */
  uv_idle_t reporter; /* runs onClose for the pairs closed since, on the loop's next turn */
  pair *closed;      /* closed pairs waiting for the reporter */
  uv_timer_t sweep;
  uint64_t idle_ms;  /* 0: no idle timeout */
  uint64_t sweep_ms; /* the sweep's period */
  pair **slots;      /* open pairs by slot; NULL for a free slot */
  uint32_t *gens;    /* generation of each slot */
  uint32_t *free_slots;
  uint32_t nslots, cap, nfree_slots;
  uint32_t active;   /* open pairs */
  uint32_t unreported; /* pairs whose onClose has not run yet (open, or closing) */
  uint32_t alive;    /* pairs not yet freed (open, or closing) and listeners not yet closed */
  uint32_t handles;  /* uv handles not yet called back after uv_close (timers, the watches, the reporter) */
  pipe_fds free_pipes[MAX_FREE_PIPES];
  uint32_t nfree_pipes, pipes_in_use;
  double to_upstream, to_client;
  uint8_t timer_running, timer_closing, disposed, finalized, tearing_down;
  /* The front: set by front(); listeners by listen(). */
  uint8_t front, accept_paused, resume_closing;
  uint64_t hello_ms, connect_ms;
  uint32_t max_hello, max_connections;
  listener *listeners[MAX_LISTENERS];
  uint32_t nlisteners;
  uv_timer_t resume; /* restarts the listeners after running out of descriptors */
};

/* splice_relay.c */
void close_pair(pair *p, int reason, int error);
void update_interest(pair *p);
/* Registers fd i of a pair for these EPOLLIN | EPOLLOUT events (0: none); returns 0 or the errno. */
int watch(pair *p, int i, uint32_t events);
int take_slot(relay *r, uint32_t *slot);
void register_pair(relay *r, pair *p, uint32_t slot);
int take_pipe(relay *r, direction *x);
void relay_ref(relay *r);
void relay_unref(relay *r);
void maybe_finish(relay *r);
pair *find_pair(relay *r, double id);
napi_value throw_error(napi_env env, const char *code, const char *message);
relay *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv);
/* Calls the callback self[name](...argv) from the event loop; *result gets its value (NULL if it threw). */
void call_back(relay *r, const char *name, size_t argc, napi_value *argv, napi_value *result);

/* front.c */
/* Fd i of a pair not yet relayed is ready: events are EPOLLIN | EPOLLOUT, error the socket's errno or 0. */
void front_ready(pair *p, int i, int error, uint32_t events);
void front_expire(pair *p);
/* Closes the listeners and the front's timer, for good (dispose, finalize, env teardown). */
void close_front(relay *r);
napi_value relay_front(napi_env env, napi_callback_info info);
napi_value relay_listen(napi_env env, napi_callback_info info);
napi_value relay_unlisten(napi_env env, napi_callback_info info);
napi_value relay_dial(napi_env env, napi_callback_info info);
napi_value relay_remote(napi_env env, napi_callback_info info);
/* The client's address as text ("127.0.0.1", "::1"), or NULL when unknown. */
napi_value remote_of(napi_env env, const address *peer);

#endif
