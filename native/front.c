/*
 * The front of the relay: a connection's life before its bytes are relayed, so that a connection
 * never becomes a Node.js socket (see docs/splice-relay.md, "The native front").
 *
 *   - listen(): the relay's own listening sockets, each with a uv_poll; accept4() up to
 *     ACCEPT_BATCH connections per readiness event; past maxConnections a connection is closed
 *     at once and onOverLimit(remote) told;
 *   - HELLO: the client's bytes are read into a buffer of the pair (at most maxHelloBytes) and
 *     each chunk is given to onHello(id, chunk); JavaScript parses the ClientHello and routes, and
 *     answers true once it has the hello (it then calls dial(), close(), or dial() later after
 *     resolving a host name: ROUTE). EOF, a reset or the hello deadline: onHello(id, undefined,
 *     "eof" | "timeout"), then the pair is closed;
 *   - DIAL: dial(id, ip, port) connects a non-blocking socket; the result comes as
 *     onDialed(id, code, seconds), code undefined on success. A failed attempt leaves the pair in
 *     ROUTE with a fresh connect deadline (its socket closed), for JavaScript to dial the next
 *     endpoint or to close it;
 *   - connected: the hello (and whatever came with it) is sent first, what the socket does not
 *     take at once goes into the direction's pipe, and the pair is relayed as any other.
 * Deadlines (hello, connect) are checked by the relay's sweep, which runs every tenth of the
 * shortest of them.
 */
#include "relay.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Connections accepted per readiness event of a listener, so one listener cannot starve the loop. */
#define ACCEPT_BATCH 64
/* The first read buffer of a hello; it grows (doubling) up to maxHelloBytes. */
#define HELLO_FIRST_READ 4096
/* How long the listeners pause after accept() ran out of descriptors. */
#define RESUME_MS 100

static void set_no_delay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

napi_value remote_of(napi_env env, const address *peer) {
  char text[INET6_ADDRSTRLEN] = "";
  napi_value result;
  if (peer->sa.sa_family == AF_INET)
    uv_ip4_name(&peer->in, text, sizeof(text));
  else if (peer->sa.sa_family == AF_INET6)
    uv_ip6_name(&peer->in6, text, sizeof(text));
  if (text[0] == '\0') napi_get_undefined(env, &result);
  else napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &result);
  return result;
}

/* Registers fd i for these events; returns whether the pair is still open (a failure closes it). */
static int set_interest(pair *p, int i, uint32_t events) {
  int error = watch(p, i, events);
  if (error != 0) close_pair(p, REASON_ERROR, error);
  return error == 0;
}

/* ---- HELLO ---- */

/* Calls onHello(id, chunk | undefined, end); returns whether JavaScript has the hello. */
static int report_hello(pair *p, const uint8_t *chunk, size_t length, const char *end) {
  relay *r = p->relay;
  napi_env env = r->env;
  napi_handle_scope scope;
  napi_value argv[3], result;
  bool taken = false;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return 0;
  napi_create_double(env, p->id, &argv[0]);
  if (chunk != NULL) napi_create_buffer_copy(env, length, chunk, NULL, &argv[1]);
  else napi_get_undefined(env, &argv[1]);
  if (end != NULL) napi_create_string_utf8(env, end, NAPI_AUTO_LENGTH, &argv[2]);
  else napi_get_undefined(env, &argv[2]);
  call_back(r, "onHello", 3, argv, &result);
  if (result != NULL) napi_get_value_bool(env, result, &taken);
  napi_close_handle_scope(env, scope);
  return taken;
}

/* The client ended before JavaScript had its hello: said, then closed. */
static void hello_ended(pair *p, const char *why) {
  report_hello(p, NULL, 0, why);
  if (!p->closing) close_pair(p, REASON_CLOSED, 0);
}

/* What read_client() answers besides a count of bytes, 0 (EOF) or -errno. */
#define READ_AGAIN (-1000)
#define READ_FULL (-1001)

/*
 * Reads what the client has sent into the hello buffer, growing it (doubling) up to
 * maxHelloBytes: the bytes read, 0 at EOF, READ_AGAIN when nothing more is there, READ_FULL when
 * the buffer is at its cap, or -errno.
 */
static ssize_t read_client(pair *p) {
  relay *r = p->relay;
  if (p->hello_length == p->hello_capacity) {
    uint32_t capacity = p->hello_capacity ? p->hello_capacity * 2 : HELLO_FIRST_READ;
    if (capacity > r->max_hello) capacity = r->max_hello;
    if (capacity <= p->hello_capacity) return READ_FULL;
    uint8_t *grown = realloc(p->hello, capacity);
    if (grown == NULL) return -ENOMEM;
    p->hello = grown;
    p->hello_capacity = capacity;
  }
  for (;;) {
    ssize_t n = recv(p->fd[0], p->hello + p->hello_length, p->hello_capacity - p->hello_length, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? READ_AGAIN : -errno;
    if (n > 0) {
      p->hello_length += (uint32_t)n;
      p->last_active = uv_now(r->loop);
    }
    return n;
  }
}

static void read_hello(pair *p) {
  while (!p->closing && p->phase == PHASE_HELLO) {
    ssize_t n = read_client(p);
    if (n == READ_AGAIN) return;
    if (n == READ_FULL) {
      /* JavaScript refuses a hello this long before the buffer is at maxHelloBytes. */
      close_pair(p, REASON_CLOSED, 0);
      return;
    }
    if (n == -ENOMEM) {
      close_pair(p, REASON_ERROR, ENOMEM);
      return;
    }
    if (n <= 0) {
      hello_ended(p, "eof"); /* EOF, or a reset: the client is gone either way */
      return;
    }
    int taken = report_hello(p, p->hello + p->hello_length - n, (size_t)n, NULL);
    if (p->closing || p->phase != PHASE_HELLO) return; /* closed or dialling already */
    if (taken) {
      p->phase = PHASE_ROUTE;
      p->deadline = uv_now(p->relay->loop) + p->relay->connect_ms;
      return;
    }
  }
}

/*
 * While routing and dialling, the client is still read: bytes it sends after its hello join the
 * hello buffer (sent with it), a reset closes the pair (an abandoned dial, not an upstream
 * failure), and its EOF or a full buffer stops the reads (the relay reads on once connected).
 */
static void read_while_dialling(pair *p) {
  for (;;) {
    ssize_t n = read_client(p);
    if (n > 0) continue;
    if (n == READ_AGAIN) return;
    if (n == 0 || n == READ_FULL || n == -ENOMEM) set_interest(p, 0, 0);
    else close_pair(p, REASON_ERROR, (int)-n);
    return;
  }
}

/* ---- DIAL ---- */

/* Calls onDialed(id, code | undefined, seconds). */
static void report_dialed(pair *p, int error) {
  relay *r = p->relay;
  napi_env env = r->env;
  napi_handle_scope scope;
  napi_value argv[3], result;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_create_double(env, p->id, &argv[0]);
  if (error != 0) napi_create_string_utf8(env, uv_err_name(-error), NAPI_AUTO_LENGTH, &argv[1]);
  else napi_get_undefined(env, &argv[1]);
  napi_create_double(env, (double)(uv_hrtime() - p->dial_began) / 1e9, &argv[2]);
  call_back(r, "onDialed", 3, argv, &result);
  napi_close_handle_scope(env, scope);
}

/* An attempt failed: back to ROUTE with a fresh deadline, for JavaScript to dial again or close. */
static void dial_failed(pair *p, int error) {
  relay *r = p->relay;
  if (p->fd[1] >= 0) {
    close(p->fd[1]); /* the front's own socket: closing it unregisters it */
    p->fd[1] = -1;
    p->interest[1] = 0;
  }
  p->phase = PHASE_ROUTE;
  p->deadline = uv_now(r->loop) + r->connect_ms;
  report_dialed(p, error);
}

/* Connected: the hello goes first, then the pair is relayed. */
static void connected(pair *p) {
  relay *r = p->relay;
  direction *up = &p->dir[0];
  uint32_t sent = 0;
  while (sent < p->hello_length) {
    ssize_t n = send(p->fd[1], p->hello + sent, p->hello_length - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) {
      close_pair(p, REASON_ERROR, errno);
      return;
    }
    sent += (uint32_t)n;
  }
  if (sent < p->hello_length) {
    /* The rest waits in the direction's pipe (a hello is far below its 64 KiB), flushed as relayed bytes are. */
    uint32_t rest = p->hello_length - sent;
    int error = take_pipe(r, up);
    ssize_t n = error == 0 ? write(up->pipe_w, p->hello + sent, rest) : -1;
    if (n != (ssize_t)rest) {
      if (n > 0) up->pending = (uint32_t)n; /* a pipe with bytes in it is closed, never pooled */
      close_pair(p, REASON_ERROR, error != 0 ? error : (n < 0 ? errno : EIO));
      return;
    }
    up->pending = rest;
  }
  up->bytes += sent;
  r->to_upstream += sent;
  free(p->hello);
  p->hello = NULL;
  p->hello_length = p->hello_capacity = 0;
  p->phase = PHASE_RELAY;
  p->last_active = uv_now(r->loop);
  update_interest(p);
  if (!p->closing) report_dialed(p, 0); /* else (no epoll room) its onClose says how it ended */
}

void front_ready(pair *p, int i, int error, uint32_t events) {
  (void)events;
  if (p->phase == PHASE_HELLO && i == 0) {
    if (error != 0) hello_ended(p, "eof");
    else read_hello(p);
    return;
  }
  if (i == 0) {
    if (error != 0) close_pair(p, REASON_ERROR, error);
    else read_while_dialling(p);
    return;
  }
  if (p->phase == PHASE_DIAL) {
    socklen_t length = sizeof(error);
    if (error == 0 && getsockopt(p->fd[1], SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    if (error != 0) dial_failed(p, error);
    else connected(p);
  }
}

void front_expire(pair *p) {
  if (p->phase == PHASE_HELLO) hello_ended(p, "timeout");
  else dial_failed(p, ETIMEDOUT);
}

/* dial(id, ip, port) -> undefined (connecting: onDialed follows) or the errno name of an immediate failure. */
napi_value relay_dial(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  double id;
  char ip[INET6_ADDRSTRLEN + 1];
  size_t ip_length;
  int32_t port;
  relay *r = unwrap(env, info, &argc, argv);
  if (r == NULL) return NULL;
  if (argc < 3 || napi_get_value_double(env, argv[0], &id) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], ip, sizeof(ip), &ip_length) != napi_ok ||
      napi_get_value_int32(env, argv[2], &port) != napi_ok || port < 1 || port > 65535)
    return throw_error(env, "E_RELAY_DIAL", "dial(id, ip, port) expects a pair id, an IP address and a port");
  napi_get_undefined(env, &result);
  pair *p = find_pair(r, id);
  if (p == NULL || p->closing) return result; /* closed meanwhile: its onClose says so */
  if (p->phase != PHASE_HELLO && p->phase != PHASE_ROUTE)
    return throw_error(env, "E_RELAY_DIAL", "the pair is dialling or relayed already");
  address to;
  memset(&to, 0, sizeof(to));
  if (uv_ip4_addr(ip, port, &to.in) != 0 && uv_ip6_addr(ip, port, &to.in6) != 0)
    return throw_error(env, "E_RELAY_DIAL", "not an IP address");
  int error = 0;
  p->fd[1] = socket(to.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (p->fd[1] < 0) error = errno;
  else {
    set_no_delay(p->fd[1]);
    p->phase = PHASE_DIAL;
    p->deadline = uv_now(r->loop) + r->connect_ms;
    p->dial_began = uv_hrtime();
    socklen_t length = to.sa.sa_family == AF_INET ? sizeof(to.in) : sizeof(to.in6);
    /* Even a connect that completes at once is reported from the poll, never from inside dial(). */
    if (connect(p->fd[1], &to.sa, length) != 0 && errno != EINPROGRESS) error = errno;
    else error = watch(p, 1, EPOLLOUT);
  }
  if (error == 0) return result;
  if (p->fd[1] >= 0) close(p->fd[1]);
  p->fd[1] = -1;
  p->interest[1] = 0;
  p->phase = PHASE_ROUTE;
  napi_create_string_utf8(env, uv_err_name(-error), NAPI_AUTO_LENGTH, &result);
  return result;
}

/* ---- listeners ---- */

static void on_accept(uv_poll_t *handle, int status, int events);

static void on_resume(uv_timer_t *timer) {
  relay *r = timer->data;
  r->accept_paused = 0;
  for (uint32_t i = 0; i < r->nlisteners; i++) uv_poll_start(&r->listeners[i]->poll, UV_READABLE, on_accept);
}

/* Calls onOverLimit(remote) for a connection closed at accept. */
static void report_over_limit(relay *r, const address *peer) {
  napi_env env = r->env;
  napi_handle_scope scope;
  napi_value argv[1], result;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  argv[0] = remote_of(env, peer);
  call_back(r, "onOverLimit", 1, argv, &result);
  napi_close_handle_scope(env, scope);
}

static void accept_one(relay *r, int fd, const address *peer) {
  uint32_t slot;
  pair *p = calloc(1, sizeof(*p));
  if (p == NULL || take_slot(r, &slot) != 0) {
    free(p);
    close(fd);
    return;
  }
  p->relay = r;
  p->slot = slot;
  p->peer = *peer;
  p->fd[0] = fd;
  p->fd[1] = -1;
  p->dir[0].pipe_r = p->dir[0].pipe_w = p->dir[1].pipe_r = p->dir[1].pipe_w = -1;
  set_no_delay(fd);
  p->phase = PHASE_HELLO;
  p->last_active = uv_now(r->loop);
  p->deadline = p->last_active + r->hello_ms;
  register_pair(r, p, slot);
  set_interest(p, 0, EPOLLIN);
}

static void on_accept(uv_poll_t *handle, int status, int events) {
  listener *l = handle->data;
  relay *r = l->relay;
  (void)events;
  if (status < 0) return;
  for (int n = 0; n < ACCEPT_BATCH && !r->disposed; n++) {
    address peer;
    socklen_t length = sizeof(peer);
    memset(&peer, 0, sizeof(peer));
    int fd = accept4(l->fd, &peer.sa, &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        /* The pending connection stays queued; accepting again at once would spin. */
        for (uint32_t i = 0; i < r->nlisteners; i++) uv_poll_stop(&r->listeners[i]->poll);
        r->accept_paused = 1;
        uv_timer_start(&r->resume, on_resume, RESUME_MS, 0);
      }
      return;
    }
    if (r->active >= r->max_connections) {
      close(fd);
      report_over_limit(r, &peer);
      if (l->closed) return; /* unlistened from the callback */
      continue;
    }
    accept_one(r, fd, &peer);
  }
}

static void on_listener_closed(uv_handle_t *handle) {
  listener *l = handle->data;
  relay *r = l->relay;
  free(l);
  r->handles--;
  relay_unref(r);
  maybe_finish(r);
}

static void on_resume_closed(uv_handle_t *handle) {
  relay *r = handle->data;
  r->handles--;
  maybe_finish(r);
}

static void close_listeners(relay *r) {
  for (uint32_t i = 0; i < r->nlisteners; i++) {
    listener *l = r->listeners[i];
    l->closed = 1;
    uv_close((uv_handle_t *)&l->poll, on_listener_closed);
    close(l->fd);
  }
  r->nlisteners = 0;
}

void close_front(relay *r) {
  close_listeners(r);
  if (r->front && !r->resume_closing) {
    r->resume_closing = 1;
    uv_close((uv_handle_t *)&r->resume, on_resume_closed);
  }
}

/* unlisten(): closes every listener (connections already accepted carry on). */
napi_value relay_unlisten(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  relay *r = unwrap(env, info, &argc, NULL);
  if (r != NULL) close_listeners(r);
  return NULL;
}

/* front(helloTimeoutMs, connectTimeoutMs, maxHelloBytes, maxConnections, onHello, onDialed, onOverLimit), once. */
napi_value relay_front(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7], self;
  double numbers[4];
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &data) != napi_ok || data == NULL) return throw_error(env, NULL, "not a splice relay");
  relay *r = data;
  if (r->front || r->disposed) return throw_error(env, "E_RELAY_FRONT", "the front is set already, or the relay disposed");
  if (argc < 7) return throw_error(env, "E_RELAY_FRONT", "front() expects 7 arguments");
  for (int i = 0; i < 4; i++)
    if (napi_get_value_double(env, argv[i], &numbers[i]) != napi_ok || !(numbers[i] >= 1 && numbers[i] <= 4294967295.0))
      return throw_error(env, "E_RELAY_FRONT", "timeouts and limits must be numbers >= 1");
  for (int i = 4; i < 7; i++) {
    napi_valuetype type;
    if (napi_typeof(env, argv[i], &type) != napi_ok || type != napi_function)
      return throw_error(env, "E_RELAY_FRONT", "onHello, onDialed and onOverLimit must be functions");
  }
  r->hello_ms = (uint64_t)numbers[0];
  r->connect_ms = (uint64_t)numbers[1];
  r->max_hello = (uint32_t)numbers[2];
  r->max_connections = (uint32_t)numbers[3];
  uint64_t every = (r->hello_ms < r->connect_ms ? r->hello_ms : r->connect_ms) / 10;
  if (every == 0) every = 1;
  if (r->sweep_ms == 0 || every < r->sweep_ms) r->sweep_ms = every;
  napi_property_descriptor callbacks[] = {
      {"onHello", NULL, NULL, NULL, NULL, argv[4], napi_default, NULL},
      {"onDialed", NULL, NULL, NULL, NULL, argv[5], napi_default, NULL},
      {"onOverLimit", NULL, NULL, NULL, NULL, argv[6], napi_default, NULL},
  };
  napi_define_properties(env, self, 3, callbacks);
  uv_timer_init(r->loop, &r->resume);
  r->resume.data = r;
  uv_unref((uv_handle_t *)&r->resume);
  r->handles++;
  r->front = 1;
  return NULL;
}

/* listen(host, port, backlog) -> the bound port; throws with the errno name as code. */
napi_value relay_listen(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  char host[INET6_ADDRSTRLEN + 1];
  size_t host_length;
  int32_t port, backlog;
  relay *r = unwrap(env, info, &argc, argv);
  if (r == NULL) return NULL;
  if (!r->front || r->disposed) return throw_error(env, "E_RELAY_FRONT", "front() first, on a relay not disposed");
  if (argc < 3 || napi_get_value_string_utf8(env, argv[0], host, sizeof(host), &host_length) != napi_ok ||
      napi_get_value_int32(env, argv[1], &port) != napi_ok || port < 0 || port > 65535 ||
      napi_get_value_int32(env, argv[2], &backlog) != napi_ok || backlog < 1)
    return throw_error(env, "E_RELAY_FRONT", "listen(host, port, backlog) expects an IP address, a port and a backlog");
  if (r->nlisteners == MAX_LISTENERS) return throw_error(env, "E_RELAY_FRONT", "too many listeners");
  address at;
  memset(&at, 0, sizeof(at));
  if (uv_ip4_addr(host, port, &at.in) != 0 && uv_ip6_addr(host, port, &at.in6) != 0)
    return throw_error(env, "E_RELAY_FRONT", "the host to listen on must be an IP address");
  socklen_t length = at.sa.sa_family == AF_INET ? sizeof(at.in) : sizeof(at.in6);
  int one = 1, error = 0;
  const char *step = "socket";
  int fd = socket(at.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) error = errno;
  else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) error = errno;
  else if ((step = "bind", bind(fd, &at.sa, length)) != 0) error = errno;
  else if ((step = "listen", listen(fd, backlog)) != 0) error = errno;
  else if ((step = "getsockname", getsockname(fd, &at.sa, &length)) != 0) error = errno;
  listener *l = error == 0 ? calloc(1, sizeof(*l)) : NULL;
  if (error == 0 && l == NULL) error = ENOMEM;
  if (error == 0 && (error = -uv_poll_init(r->loop, &l->poll, fd)) != 0) free(l);
  if (error != 0) {
    char message[160];
    if (fd >= 0) close(fd);
    snprintf(message, sizeof(message), "%s %s: %s %s:%d", step, uv_err_name(-error), uv_strerror(-error), host, port);
    return throw_error(env, uv_err_name(-error), message);
  }
  l->fd = fd;
  l->relay = r;
  l->poll.data = l;
  r->handles++;
  relay_ref(r);
  r->listeners[r->nlisteners++] = l;
  if (!r->accept_paused) uv_poll_start(&l->poll, UV_READABLE, on_accept);
  napi_create_int32(env, ntohs(at.sa.sa_family == AF_INET ? at.in.sin_port : at.in6.sin6_port), &result);
  return result;
}

/* remote(id) -> the client's address, or undefined. */
napi_value relay_remote(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  double id;
  relay *r = unwrap(env, info, &argc, argv);
  if (r == NULL) return NULL;
  if (argc < 1 || napi_get_value_double(env, argv[0], &id) != napi_ok) return throw_error(env, NULL, "id expected");
  pair *p = find_pair(r, id);
  if (p == NULL) {
    napi_get_undefined(env, &result);
    return result;
  }
  return remote_of(env, &p->peer);
}
