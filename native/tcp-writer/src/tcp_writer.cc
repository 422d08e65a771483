// Writes shared buffers straight to a stream socket's file descriptor with one
// sendmsg, for realtime (min_latency) fan-out: the caller has checked that Node
// has nothing queued on the socket, so this is what libuv's own first write
// attempt would do, without Node's Writable, WriteWrap and libuv bookkeeping
// per player per frame (docs/DECISIONS.md, "Realtime fan-out: one native call per turn").
// Never blocks (MSG_DONTWAIT), never raises SIGPIPE (MSG_NOSIGNAL): what it
// could not write, the caller hands to socket.write, which queues it and
// reports any error the way Node always does.
#include <errno.h>
#include <node_api.h>
#include <sys/socket.h>
#include <sys/uio.h>

namespace {

constexpr uint32_t kMaxIov = 64;

// The first n buffers of a JS array as an iovec; false (a TypeError thrown) if one is not a buffer.
bool GatherIov(napi_env env, napi_value buffers, uint32_t n, iovec* iov, const char* what) {
  for (uint32_t i = 0; i < n; i++) {
    napi_value b;
    if (napi_get_element(env, buffers, i, &b) != napi_ok || napi_get_buffer_info(env, b, &iov[i].iov_base, &iov[i].iov_len) != napi_ok) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", what);
      return false;
    }
  }
  return true;
}

// One non-blocking write of the iovec: bytes written, 0 when the socket is full, or -errno.
ssize_t SendIov(int fd, iovec* iov, uint32_t n) {
  if (fd < 0) return -EBADF;  // a socket destroyed meanwhile (the caller passes -1)
  msghdr msg = {};
  msg.msg_iov = iov;
  msg.msg_iovlen = n;
  ssize_t w;
  // send() is the cheaper syscall for the common case, one buffer.
  do w = n == 1 ? send(fd, iov[0].iov_base, iov[0].iov_len, MSG_DONTWAIT | MSG_NOSIGNAL) : sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (w < 0 && errno == EINTR);
  if (w < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
  return w;
}

// writev(fd, chunks: Buffer[]) -> bytes written (0 when the socket is full), or -errno.
napi_value Writev(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t fd = -1;
  uint32_t n = 0;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 || napi_get_array_length(env, argv[1], &n) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "writev(fd, buffers)");
    return nullptr;
  }
  if (n > kMaxIov) n = kMaxIov;  // the caller writes the rest through Node
  iovec iov[kMaxIov];
  if (!GatherIov(env, argv[1], n, iov, "writev: not a buffer")) return nullptr;
  napi_value out;
  napi_create_int64(env, SendIov(fd, iov, n), &out);
  return out;
}

// fanout(fds: Int32Array, count, chunks: Buffer[], written: Int32Array): the same
// bytes to the first `count` fds, one send/sendmsg each; written[i] as writev returns.
napi_value Fanout(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  napi_typedarray_type t1, t4;
  size_t n1 = 0, n4 = 0, off;
  void *fds = nullptr, *out = nullptr;
  napi_value ab;
  uint32_t count = 0, n = 0;
  if (argc < 4 || napi_get_typedarray_info(env, argv[0], &t1, &n1, &fds, &ab, &off) != napi_ok || t1 != napi_int32_array ||
      napi_get_value_uint32(env, argv[1], &count) != napi_ok || count > n1 || napi_get_array_length(env, argv[2], &n) != napi_ok || n > kMaxIov ||
      napi_get_typedarray_info(env, argv[3], &t4, &n4, &out, &ab, &off) != napi_ok || t4 != napi_int32_array || n4 < count) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "fanout(fds, count, buffers, written)");
    return nullptr;
  }
  iovec iov[kMaxIov];
  if (!GatherIov(env, argv[2], n, iov, "fanout: not a buffer")) return nullptr;
  const int32_t* f = static_cast<const int32_t*>(fds);
  int32_t* o = static_cast<int32_t*>(out);
  for (uint32_t i = 0; i < count; i++) o[i] = int32_t(SendIov(f[i], iov, n));
  return nullptr;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"writev", nullptr, Writev, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"fanout", nullptr, Fanout, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
