/*
 * splice_relay: moves the bytes of proxied TCP connections between two sockets with Linux
 * splice(2) through a pipe, so they never enter JavaScript (see docs/splice-relay.md).
 *
 * Everything runs on the Node.js main thread, in the event loop (libuv), with no threads:
 *   - a pair is two socket fds (client, upstream: dups of JavaScript sockets', or the front's own,
 *     front.c) and two directions, client -> upstream (dir[0], read from fd[0]) and
 *     upstream -> client (dir[1], read from fd[1]);
 *   - the relay has its own epoll instance, watched by one uv_poll: each fd is registered in it
 *     (level-triggered) for the interest that follows from the state: EPOLLIN on a source while
 *     its direction has nothing pending in its pipe and no EOF, EPOLLOUT on a destination while
 *     its direction has bytes pending (backpressure: a full destination stops the reads). One
 *     epoll_ctl per change, none at close (closing the fd unregisters it); a uv_poll per fd would
 *     cost a DEL and an ADD per change and an ioctl per fd;
 *   - pipes come from a per-relay pool, taken when a direction has bytes to move and given back as
 *     soon as the pipe is empty again, so an idle pair holds no pipe;
 *   - one unref'd sweep timer per relay closes the pairs idle for longer than the idle timeout
 *     (and expires the front's deadlines);
 *   - when a pair closes, its fds are closed at once and its onClose runs from an idle handle on
 *     the loop's next turn: always later, from the event loop, never from inside a call into this addon.
 */
#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Most bytes one splice into a pipe asks for (a default pipe holds 64 KiB). */
#define CHUNK (64 * 1024)
/* Fill-and-drain rounds, and bytes, per readiness event: bounded so one busy pair cannot starve the loop. */
#define MAX_ROUNDS 4
#define MAX_BURST (256 * 1024)
/* Events taken from the relay's epoll per turn of the loop (more wait for the next turn). */
#define EVENTS_PER_TURN 64
/* A pair id is generation * SLOT_SPACE + slot: stale ids of a reused slot never match. */
#define SLOT_SPACE 4194304.0
#define MAX_GENERATION 0x7fffffffu

static const char *const REASON_NAMES[] = {"done", "idle-timeout", "error", "closed"};

/* ---- pipes ---- */

int take_pipe(relay *r, direction *x) {
  if (r->nfree_pipes > 0) {
    pipe_fds p = r->free_pipes[--r->nfree_pipes];
    x->pipe_r = p.r;
    x->pipe_w = p.w;
  } else {
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return errno;
    x->pipe_r = fds[0];
    x->pipe_w = fds[1];
  }
  r->pipes_in_use++;
  return 0;
}

/* Gives a direction's pipe back; a pipe still holding bytes is closed, never pooled. */
static void release_pipe(relay *r, direction *x) {
  if (x->pipe_r < 0) return;
  if (x->pending == 0 && r->nfree_pipes < MAX_FREE_PIPES && !r->disposed && !r->finalized &&
      !r->tearing_down) {
    r->free_pipes[r->nfree_pipes].r = x->pipe_r;
    r->free_pipes[r->nfree_pipes].w = x->pipe_w;
    r->nfree_pipes++;
  } else {
    close(x->pipe_r);
    close(x->pipe_w);
  }
  x->pipe_r = x->pipe_w = -1;
  x->pending = 0;
  r->pipes_in_use--;
}

static void close_free_pipes(relay *r) {
  while (r->nfree_pipes > 0) {
    pipe_fds p = r->free_pipes[--r->nfree_pipes];
    close(p.r);
    close(p.w);
  }
}

/* ---- relay lifetime ---- */

static void free_relay(relay *r) {
  free(r->slots);
  free(r->gens);
  free(r->free_slots);
  free(r);
}

/*
 * Called whenever a handle has finished closing: once none is left, an env teardown in progress
 * is told it is done, and a relay whose JS object is gone is freed.
 */
void maybe_finish(relay *r) {
  if (r->handles > 0) return;
  if (r->hook != NULL && (r->tearing_down || r->finalized)) {
    napi_remove_async_cleanup_hook(r->hook);
    r->hook = NULL;
  }
  if (r->finalized) free_relay(r);
}

static void on_timer_closed(uv_handle_t *handle) {
  relay *r = handle->data;
  r->handles--;
  maybe_finish(r);
}

static void free_pair(pair *p) {
  free(p->hello);
  free(p);
}

/* The reporter has closed (teardown, finalizer): pairs still waiting are freed without a word. */
static void on_reporter_closed(uv_handle_t *handle) {
  relay *r = handle->data;
  while (r->closed != NULL) {
    pair *p = r->closed;
    r->closed = p->next_closed;
    free_pair(p);
  }
  r->handles--;
  maybe_finish(r);
}

/* Closes the epoll instance and its watch, once no pair can use them (dispose, finalizer, teardown). */
static void close_epoll(relay *r) {
  if (r->epfd < 0) return;
  uv_close((uv_handle_t *)&r->events, on_timer_closed);
  close(r->epfd);
  r->epfd = -1;
}

/* Closes the timer, the epoll watch and the reporter, for good. */
static void close_handles(relay *r) {
  if (r->timer_closing) return;
  r->timer_closing = 1;
  r->timer_running = 0;
  uv_close((uv_handle_t *)&r->sweep, on_timer_closed);
  close_epoll(r);
  uv_close((uv_handle_t *)&r->reporter, on_reporter_closed);
}

/* ---- pairs ---- */


void call_back(relay *r, const char *name, size_t argc, napi_value *argv, napi_value *result) {
  napi_env env = r->env;
  napi_value fn, self;
  napi_valuetype type;
  *result = NULL;
  if (r->self == NULL || napi_get_reference_value(env, r->self, &self) != napi_ok || self == NULL ||
      napi_get_named_property(env, self, name, &fn) != napi_ok || napi_typeof(env, fn, &type) != napi_ok ||
      type != napi_function)
    return;
  if (napi_make_callback(env, r->async, self, fn, argc, argv, result) == napi_pending_exception) {
    /* A throwing callback is an uncaught exception, as for any callback from the event loop. */
    napi_value exception;
    *result = NULL;
    if (napi_get_and_clear_last_exception(env, &exception) == napi_ok) napi_fatal_exception(env, exception);
  }
}

/*
 * Calls onClose(id, reason, code, toUpstream, toClient, remote) as any Node.js callback
 * (microtasks run after it); remote only for an idle-timeout or error end, which are logged.
 */
static void report_close(relay *r, pair *p) {
  napi_env env = r->env;
  napi_handle_scope scope;
  napi_value argv[6], result;
  if (r->self == NULL || napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_create_double(env, p->id, &argv[0]);
  napi_create_string_utf8(env, REASON_NAMES[p->reason], NAPI_AUTO_LENGTH, &argv[1]);
  if (p->reason == REASON_ERROR)
    napi_create_string_utf8(env, uv_err_name(-p->error), NAPI_AUTO_LENGTH, &argv[2]);
  else
    napi_get_undefined(env, &argv[2]);
  napi_create_double(env, p->dir[0].bytes, &argv[3]);
  napi_create_double(env, p->dir[1].bytes, &argv[4]);
  if (p->reason == REASON_ERROR || p->reason == REASON_IDLE)
    argv[5] = remote_of(env, &p->peer);
  else
    napi_get_undefined(env, &argv[5]);
  call_back(r, "onClose", 6, argv, &result);
  napi_close_handle_scope(env, scope);
}

void relay_ref(relay *r) {
  if (r->alive++ == 0) napi_reference_ref(r->env, r->self, NULL);
}

void relay_unref(relay *r) {
  if (--r->alive == 0 && r->self != NULL && !r->finalized && !r->tearing_down)
    napi_reference_unref(r->env, r->self, NULL);
}

/* The loop's next turn after pairs closed: their onClose, in the order they closed. */
static void on_report(uv_idle_t *handle) {
  relay *r = handle->data;
  pair *list = NULL;
  /* Reversed into closing order; pairs closed by the callbacks wait for the next turn. */
  while (r->closed != NULL) {
    pair *p = r->closed;
    r->closed = p->next_closed;
    p->next_closed = list;
    list = p;
  }
  while (list != NULL) {
    pair *p = list;
    list = p->next_closed;
    r->unreported--;
    if (!r->tearing_down && !r->finalized) report_close(r, p);
    free_pair(p);
    relay_unref(r);
  }
  if (r->closed == NULL) uv_idle_stop(&r->reporter);
}

int watch(pair *p, int i, uint32_t events) {
  relay *r = p->relay;
  if (p->interest[i] == events) return 0;
  struct epoll_event event;
  event.events = events;
  event.data.u64 = (uint64_t)(uintptr_t)p | (uint64_t)i; /* pairs are malloc'ed: the low bit is free */
  int op = p->interest[i] == 0 ? EPOLL_CTL_ADD : events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
  if (epoll_ctl(r->epfd, op, p->fd[i], &event) != 0) return errno;
  p->interest[i] = (uint8_t)events;
  return 0;
}

/*
 * Closes a pair now: its fds are closed here, its onClose runs on the loop's next turn. Idempotent.
 */
void close_pair(pair *p, int reason, int error) {
  relay *r = p->relay;
  if (p->closing) return;
  p->closing = 1;
  p->reason = (uint8_t)reason;
  p->error = error;
  r->slots[p->slot] = NULL;
  r->free_slots[r->nfree_slots++] = p->slot;
  r->active--;
  for (int i = 0; i < 2; i++) {
    /* Closing an fd unregisters it from epoll only once no other fd refers to its socket: a dup
     * of a JavaScript socket's is unregistered first, in case that socket's fd is still open. */
    if (p->adopted) watch(p, i, 0);
    if (p->fd[i] >= 0) close(p->fd[i]);
    p->fd[i] = -1;
    p->interest[i] = 0;
    release_pipe(r, &p->dir[i]);
  }
  p->next_closed = r->closed;
  r->closed = p;
  if (!uv_is_active((uv_handle_t *)&r->reporter)) uv_idle_start(&r->reporter, on_report);
  if (r->active == 0) {
    uv_unref((uv_handle_t *)&r->events);
    if (r->timer_running) {
      uv_timer_stop(&r->sweep);
      r->timer_running = 0;
    }
  }
}

static void close_all(relay *r, int reason) {
  for (uint32_t s = 0; s < r->nslots; s++)
    if (r->slots[s] != NULL) close_pair(r->slots[s], reason, 0);
}

/* Registers each fd for the interest it has now (an epoll_ctl only when it changed); a failure closes the pair. */
void update_interest(pair *p) {
  for (int i = 0; i < 2; i++) {
    const direction *from = &p->dir[i];   /* fd[i] is its source */
    const direction *to = &p->dir[1 - i]; /* fd[i] is its destination */
    uint32_t events = 0;
    if (!from->eof && from->pending == 0) events |= EPOLLIN;
    if (to->pending > 0) events |= EPOLLOUT;
    int error = watch(p, i, events);
    if (error != 0) {
      close_pair(p, REASON_ERROR, error);
      return;
    }
  }
}

/*
 * Moves what it can in direction d: splice source -> pipe, then pipe -> destination, a few
 * rounds while both sides keep up. Returns 0, or the errno that must close the pair.
 */
static int move(pair *p, int d) {
  relay *r = p->relay;
  direction *x = &p->dir[d];
  int source = p->fd[d], destination = p->fd[1 - d];
  size_t moved = 0;
  for (int round = 0; round < MAX_ROUNDS && moved < MAX_BURST; round++) {
    ssize_t filled = 0;
    if (x->pending == 0) {
      if (x->eof) break;
      if (x->pipe_r < 0) {
        int error = take_pipe(r, x);
        if (error != 0) return error;
      }
      filled = splice(source, NULL, x->pipe_w, NULL, CHUNK, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (filled < 0) {
        if (errno == EAGAIN || errno == EINTR) break;
        return errno;
      }
      p->last_active = uv_now(r->loop);
      if (filled == 0) {
        x->eof = 1;
        break;
      }
      x->pending = (uint32_t)filled;
    }
    ssize_t written = splice(x->pipe_r, NULL, destination, NULL, x->pending, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (written < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      return errno;
    }
    x->pending -= (uint32_t)written;
    x->bytes += (double)written;
    if (d == 0)
      r->to_upstream += (double)written;
    else
      r->to_client += (double)written;
    moved += (size_t)written;
    p->last_active = uv_now(r->loop);
    if (x->pending > 0) break; /* the destination is full: wait until it is writable */
    if (filled > 0 && filled < CHUNK) break; /* a short read: the source is likely drained; poll says when not */
  }
  if (x->pending == 0) {
    release_pipe(r, x);
    if (x->eof && !x->shut) {
      /* Half-close passes through. Its error, if any (the peer is gone), shows on the next splice. */
      x->shut = 1;
      shutdown(destination, SHUT_WR);
    }
  }
  return 0;
}

/* Fd i of a relayed pair is ready. */
static void relay_ready(pair *p, int i, int error, uint32_t events) {
  if (error != 0) {
    close_pair(p, REASON_ERROR, error);
    return;
  }
  /* Writable fd i: the direction that writes to it flushes, then may read again. */
  if (events & EPOLLOUT) error = move(p, 1 - i);
  if (error == 0 && (events & EPOLLIN)) error = move(p, i);
  if (error != 0)
    close_pair(p, REASON_ERROR, error);
  else if (p->dir[0].shut && p->dir[1].shut)
    close_pair(p, REASON_DONE, 0);
  else
    update_interest(p);
}

/* The relay's epoll has events: each goes to its pair, by phase. */
static void on_events(uv_poll_t *handle, int status, int events) {
  relay *r = handle->data;
  struct epoll_event ready[EVENTS_PER_TURN];
  (void)status;
  (void)events;
  int n = epoll_wait(r->epfd, ready, EVENTS_PER_TURN, 0);
  for (int k = 0; k < n; k++) {
    /* A pair closed by an earlier event of this batch is still allocated (freed by the reporter). */
    pair *p = (pair *)(uintptr_t)(ready[k].data.u64 & ~(uint64_t)1);
    int i = (int)(ready[k].data.u64 & 1);
    if (p->closing || p->interest[i] == 0) continue;
    uint32_t what = ready[k].events;
    int error = 0;
    if (what & EPOLLERR) {
      /* The socket's own error (ECONNRESET…) says what happened. */
      socklen_t length = sizeof(error);
      if (getsockopt(p->fd[i], SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error == 0) error = EIO;
    }
    /* A hang-up is seen by the reads and writes the fd is registered for. */
    if (what & EPOLLHUP) what |= p->interest[i];
    what &= p->interest[i];
    if (p->phase != PHASE_RELAY)
      front_ready(p, i, error, what);
    else
      relay_ready(p, i, error, what);
  }
}

static void on_sweep(uv_timer_t *timer) {
  relay *r = timer->data;
  uint64_t now = uv_now(r->loop);
  for (uint32_t s = 0; s < r->nslots; s++) {
    pair *p = r->slots[s];
    if (p == NULL) continue;
    /* The idle timeout runs from the hello on, as on a Node.js socket; the hello has its own deadline. */
    if (r->idle_ms > 0 && p->phase != PHASE_HELLO && now > p->last_active && now - p->last_active >= r->idle_ms)
      close_pair(p, REASON_IDLE, 0);
    else if (p->phase != PHASE_RELAY && now >= p->deadline)
      front_expire(p);
  }
}

/* Gives a new pair its id and starts the sweep if it needs to run. */
void register_pair(relay *r, pair *p, uint32_t slot) {
  if (r->gens[slot] >= MAX_GENERATION) r->gens[slot] = 0;
  r->gens[slot]++;
  p->id = (double)r->gens[slot] * SLOT_SPACE + (double)slot;
  r->slots[slot] = p;
  if (r->active++ == 0) uv_ref((uv_handle_t *)&r->events);
  r->unreported++;
  relay_ref(r);
  if (r->sweep_ms > 0 && !r->timer_running) {
    uv_timer_start(&r->sweep, on_sweep, r->sweep_ms, r->sweep_ms);
    r->timer_running = 1;
  }
}

/* The open pair with that id, or NULL (unknown, stale or closing). */
pair *find_pair(relay *r, double id) {
  if (!(id >= SLOT_SPACE && id < 9007199254740992.0)) return NULL;
  uint32_t slot = (uint32_t)((uint64_t)id % (uint64_t)SLOT_SPACE);
  if (slot >= r->nslots) return NULL;
  pair *p = r->slots[slot];
  return p != NULL && p->id == id ? p : NULL;
}

/* A free slot for a new pair (grows the tables); returns 0 or ENOMEM. */
int take_slot(relay *r, uint32_t *slot) {
  if (r->nfree_slots > 0) {
    *slot = r->free_slots[--r->nfree_slots];
    return 0;
  }
  if (r->nslots == r->cap) {
    uint32_t cap = r->cap ? r->cap * 2 : 64;
    if (cap > (uint32_t)SLOT_SPACE) return ENOMEM;
    pair **slots = realloc(r->slots, cap * sizeof(*slots));
    if (slots == NULL) return ENOMEM;
    r->slots = slots;
    uint32_t *gens = realloc(r->gens, cap * sizeof(*gens));
    if (gens == NULL) return ENOMEM;
    r->gens = gens;
    uint32_t *free_slots = realloc(r->free_slots, cap * sizeof(*free_slots));
    if (free_slots == NULL) return ENOMEM;
    r->free_slots = free_slots;
    r->cap = cap;
  }
  *slot = r->nslots++;
  r->slots[*slot] = NULL;
  r->gens[*slot] = 0;
  return 0;
}

/* ---- env teardown and finalizer ---- */

/* The env is going away (exit, worker end): close everything without calling JS, then say done. */
static void on_env_teardown(napi_async_cleanup_hook_handle handle, void *arg) {
  relay *r = arg;
  (void)handle;
  r->tearing_down = 1;
  close_front(r);
  close_all(r, REASON_CLOSED);
  close_free_pipes(r);
  close_handles(r);
  if (r->async != NULL) {
    napi_async_destroy(r->env, r->async);
    r->async = NULL;
  }
  maybe_finish(r);
}

/* The JS object is gone (collected, or the env is torn down); pairs keep it alive, so none is open here. */
static void finalize_relay(napi_env env, void *data, void *hint) {
  relay *r = data;
  (void)hint;
  close_front(r);
  close_all(r, REASON_CLOSED);
  r->finalized = 1;
  close_free_pipes(r);
  if (r->self != NULL) napi_delete_reference(env, r->self);
  r->self = NULL;
  if (r->async != NULL) {
    napi_async_destroy(env, r->async);
    r->async = NULL;
  }
  close_handles(r);
  maybe_finish(r);
}

/* ---- JS methods ---- */

napi_value throw_error(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

relay *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  void *data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &data) != napi_ok || data == NULL) {
    throw_error(env, NULL, "not a splice relay");
    return NULL;
  }
  return data;
}

/* new Relay(idleTimeoutMs, onClose) */
static napi_value relay_new(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], self;
  double idle_ms = 0;
  napi_valuetype type;
  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok) return NULL;
  if (argc < 2 || napi_get_value_double(env, argv[0], &idle_ms) != napi_ok || !(idle_ms >= 0))
    return throw_error(env, NULL, "idleTimeoutMs must be a number >= 0");
  if (napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function)
    return throw_error(env, NULL, "onClose must be a function");
  relay *r = calloc(1, sizeof(*r));
  if (r == NULL) return throw_error(env, NULL, "out of memory");
  r->env = env;
  r->idle_ms = (uint64_t)idle_ms;
  if (r->idle_ms > 0) {
    r->sweep_ms = r->idle_ms / 4;
    if (r->sweep_ms > 1000) r->sweep_ms = 1000;
    if (r->sweep_ms == 0) r->sweep_ms = 1;
  }
  napi_value name;
  r->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (r->epfd < 0 || napi_get_uv_event_loop(env, &r->loop) != napi_ok ||
      napi_create_string_utf8(env, "SpliceRelay", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &r->async) != napi_ok) {
    if (r->epfd >= 0) close(r->epfd);
    free(r);
    return throw_error(env, NULL, "cannot set up the relay");
  }
  if (uv_poll_init(r->loop, &r->events, r->epfd) != 0 || napi_wrap(env, self, r, finalize_relay, NULL, NULL) != napi_ok) {
    /* A poll that failed to initialise is no handle; one that did is closed before its memory goes. */
    napi_async_destroy(env, r->async);
    close(r->epfd);
    free(r);
    return throw_error(env, NULL, "cannot wrap the relay");
  }
  /* From here the finalizer owns r. */
  napi_property_descriptor callback = {"onClose", NULL, NULL, NULL, NULL, argv[1], napi_default, NULL};
  napi_define_properties(env, self, 1, &callback);
  napi_create_reference(env, self, 0, &r->self);
  uv_timer_init(r->loop, &r->sweep);
  r->sweep.data = r;
  uv_unref((uv_handle_t *)&r->sweep); /* never keeps the process alive by itself */
  r->events.data = r;
  uv_poll_start(&r->events, UV_READABLE, on_events);
  uv_unref((uv_handle_t *)&r->events); /* ref'd while pairs are open */
  uv_idle_init(r->loop, &r->reporter);
  r->reporter.data = r;
  r->handles = 3;
  napi_add_async_cleanup_hook(env, on_env_teardown, r, &r->hook);
  return self;
}

/* adopt(clientFd, upstreamFd) -> id; the caller closes its own fds afterwards. */
static napi_value relay_adopt(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  int32_t fds[2];
  relay *r = unwrap(env, info, &argc, argv);
  if (r == NULL) return NULL;
  if (r->disposed) return throw_error(env, "E_SPLICE_ADOPT", "the relay is disposed");
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fds[0]) != napi_ok ||
      napi_get_value_int32(env, argv[1], &fds[1]) != napi_ok || fds[0] < 0 || fds[1] < 0)
    return throw_error(env, "E_SPLICE_ADOPT", "two file descriptors expected");
  for (int i = 0; i < 2; i++) {
    int type = 0;
    socklen_t length = sizeof(type);
    if (getsockopt(fds[i], SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_STREAM)
      return throw_error(env, "E_SPLICE_ADOPT", i == 0 ? "the client fd is not a stream socket"
                                                        : "the upstream fd is not a stream socket");
  }
  uint32_t slot;
  pair *p = calloc(1, sizeof(*p));
  if (p == NULL || take_slot(r, &slot) != 0) {
    free(p);
    return throw_error(env, "E_SPLICE_ADOPT", "out of memory");
  }
  p->relay = r;
  p->slot = slot;
  p->adopted = 1;
  p->phase = PHASE_RELAY;
  int error = 0;
  for (int i = 0; i < 2; i++) {
    p->dir[i].pipe_r = p->dir[i].pipe_w = -1;
    /* A dup of our own: the caller's socket closes its fd, the connection stays open through this one. */
    p->fd[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
    if (p->fd[i] < 0 && error == 0) error = errno;
  }
  for (int i = 0; i < 2 && error == 0; i++) error = watch(p, i, EPOLLIN);
  if (error != 0) {
    /* Undone: the caller's sockets stay as they were. */
    for (int i = 0; i < 2; i++) {
      if (p->interest[i] != 0) watch(p, i, 0);
      if (p->fd[i] >= 0) close(p->fd[i]);
    }
    free(p);
    r->free_slots[r->nfree_slots++] = slot;
    char message[128];
    snprintf(message, sizeof(message), "cannot take over the sockets: %s", strerror(error));
    return throw_error(env, "E_SPLICE_ADOPT", message);
  }
  p->last_active = uv_now(r->loop);
  register_pair(r, p, slot);
  napi_create_double(env, p->id, &result);
  return result;
}

/* close(id): closes that pair now (its onClose follows); an unknown or closed id is ignored. */
static napi_value relay_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  double id;
  relay *r = unwrap(env, info, &argc, argv);
  if (r == NULL) return NULL;
  if (argc < 1 || napi_get_value_double(env, argv[0], &id) != napi_ok) return throw_error(env, NULL, "id expected");
  pair *p = find_pair(r, id);
  if (p != NULL) close_pair(p, REASON_CLOSED, 0);
  return NULL;
}

static napi_value relay_close_all(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  relay *r = unwrap(env, info, &argc, NULL);
  if (r != NULL) close_all(r, REASON_CLOSED);
  return NULL;
}

/* dispose(): closes every pair, stops the sweep; adopt is refused afterwards. */
static napi_value relay_dispose(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  relay *r = unwrap(env, info, &argc, NULL);
  if (r == NULL) return NULL;
  r->disposed = 1;
  close_front(r);
  close_all(r, REASON_CLOSED);
  close_free_pipes(r);
  close_epoll(r);
  return NULL;
}

static napi_value pair_of_numbers(napi_env env, double a, double b) {
  napi_value result, first, second;
  napi_create_array_with_length(env, 2, &result);
  napi_create_double(env, a, &first);
  napi_create_double(env, b, &second);
  napi_set_element(env, result, 0, first);
  napi_set_element(env, result, 1, second);
  return result;
}

/* counts() -> [active, unreported]: pairs open now, and pairs whose onClose has not run yet. */
static napi_value relay_counts(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  relay *r = unwrap(env, info, &argc, NULL);
  return r == NULL ? NULL : pair_of_numbers(env, r->active, r->unreported);
}

/* totals() -> [toUpstream, toClient]: bytes written since the relay was created. */
static napi_value relay_totals(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  relay *r = unwrap(env, info, &argc, NULL);
  return r == NULL ? NULL : pair_of_numbers(env, r->to_upstream, r->to_client);
}

/* pipes() -> [inUse, free]: pipes held by directions moving bytes, and empty ones kept for reuse. */
static napi_value relay_pipes(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  relay *r = unwrap(env, info, &argc, NULL);
  return r == NULL ? NULL : pair_of_numbers(env, r->pipes_in_use, r->nfree_pipes);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"adopt", NULL, relay_adopt, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, relay_close, NULL, NULL, NULL, napi_default, NULL},
      {"closeAll", NULL, relay_close_all, NULL, NULL, NULL, napi_default, NULL},
      {"dispose", NULL, relay_dispose, NULL, NULL, NULL, napi_default, NULL},
      {"counts", NULL, relay_counts, NULL, NULL, NULL, napi_default, NULL},
      {"totals", NULL, relay_totals, NULL, NULL, NULL, napi_default, NULL},
      {"pipes", NULL, relay_pipes, NULL, NULL, NULL, napi_default, NULL},
      {"front", NULL, relay_front, NULL, NULL, NULL, napi_default, NULL},
      {"listen", NULL, relay_listen, NULL, NULL, NULL, napi_default, NULL},
      {"unlisten", NULL, relay_unlisten, NULL, NULL, NULL, napi_default, NULL},
      {"dial", NULL, relay_dial, NULL, NULL, NULL, napi_default, NULL},
      {"remote", NULL, relay_remote, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value constructor;
  if (napi_define_class(env, "Relay", NAPI_AUTO_LENGTH, relay_new, NULL, sizeof(methods) / sizeof(methods[0]),
                        methods, &constructor) != napi_ok ||
      napi_set_named_property(env, exports, "Relay", constructor) != napi_ok)
    return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
