// The WebRTC gateway's datagram relay, in C++ on a thread of its own.
//
// Why: with follow_client_address on, every RTP datagram a WHEP player gets
// crosses the kernel twice (libjuice -> a session's loopback address -> the
// public port). Done in JavaScript that is a libuv wake-up, a recvmsg, an
// empty read and a sendmsg per datagram on the main thread (~13 us). Here one
// thread reads a burst with one recvmmsg and sends it on with one sendmmsg.
//
// libjuice tells its sessions apart by their peer's address, so each session
// needs an address of its own on loopback. Rather than a socket per session
// (a read per session per burst), every session is one address in 127.1.0.0/16
// and beyond, all on one socket bound to the wildcard: IP_PKTINFO says which
// session a datagram from libjuice is for, and sets the source of the ones
// sent to it. Only datagrams from libjuice's own address on the loopback
// interface are taken on that socket.
//
// Sending without the hop: where it can, the relay also replaces libjuice's
// `sendto` in node-datachannel's import table (its GOT) with its own, which
// sends an established session's RTP/RTCP straight from the public socket to
// the client's current address instead of to the session's loopback address.
// Then a player's media crosses the kernel once, as with follow_client_address
// off. Anything the hook does not recognise goes to libc's sendto unchanged;
// where the table entry is not found, the loopback hop stays.
//
// Only media takes the fast path: RTP/RTCP (first byte 128..191) between a
// session socket and the client address the gateway made current. STUN, DTLS
// and anything from an address that is not a session's current one go to
// JavaScript, which keeps every decision (ICE checks, moves, DTLS resends).
#include <node_api.h>

#include <arpa/inet.h>
#include <link.h>
#include <sys/mman.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

constexpr int kBatch = 64;          // datagrams per recvmmsg/sendmmsg
constexpr size_t kSlot = 4096;      // bytes per datagram slot (RTP/DTLS stay below the path MTU)
constexpr size_t kMaxQueued = 1024; // datagrams waiting for JavaScript before new ones are dropped (4 MiB at most)
// After a wake-up the thread waits this long before it reads, so that one wake-up moves a burst
// (a frame to every player) instead of one datagram: fewer context switches, fuller sendmmsg.
constexpr long kGatherNs = 1000000;
constexpr uint64_t kFrontTag = 0;
constexpr uint64_t kWakeTag = UINT64_MAX;

int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

bool IsMedia(uint8_t b) { return b >= 128 && b <= 191; }

struct Session {
  uint32_t local = 0;  // the session's loopback address, host order
  bool hasCurrent = false;
  sockaddr_storage current{};
  socklen_t currentLen = 0;
  std::string currentKey;
  int64_t currentSeen = 0;
  // Until JavaScript says the DTLS handshake is over, it sees every datagram of the session.
  bool fast = false;
};

struct Item {
  bool fromFront;
  uint32_t id;
  std::string address;
  int port;
  std::vector<uint8_t> data;
};

constexpr size_t kCtl = CMSG_SPACE(sizeof(in_pktinfo));

struct Slots {
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  sockaddr_storage addr[kBatch];
  alignas(cmsghdr) uint8_t ctl[kBatch][kCtl];
  uint8_t buf[kBatch][kSlot];
  Slots() {
    for (int i = 0; i < kBatch; i++) {
      iov[i].iov_base = buf[i];
      iov[i].iov_len = kSlot;
    }
  }
  void Arm(int i, bool wantCtl) {
    memset(&msgs[i].msg_hdr, 0, sizeof(msghdr));
    iov[i].iov_len = kSlot;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &addr[i];
    msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    if (wantCtl) {
      msgs[i].msg_hdr.msg_control = ctl[i];
      msgs[i].msg_hdr.msg_controllen = kCtl;
    }
  }
};

struct Relay {
  int front = -1;
  int inner = -1;      // every session's loopback address, towards libjuice
  int innerPort = 0;
  sockaddr_in juice{};  // libjuice's loopback port
  int epoll = -1;
  int wake = -1;
  bool v6 = false;
  std::thread thread;
  std::atomic<bool> stopping{false};
  bool started = false;
  bool shut = false;
  // Freed when both the JavaScript handle and the threadsafe function are finalized, in either order
  // (at process exit Node finalizes them in no set order).
  int refs = 2;
  bool tsfnGone = false;

  // Guards sessions and byCurrent; the relay thread holds it for one wake-up's work.
  std::mutex mu;
  std::unordered_map<uint32_t, Session> sessions;
  std::unordered_map<std::string, uint32_t> byCurrent;
  std::unordered_map<uint32_t, uint32_t> byLocal;  // loopback address -> session id
  uint32_t nextId = 1;

  napi_threadsafe_function tsfn = nullptr;
  std::mutex qmu;
  std::vector<Item> queue;
  bool scheduled = false;

  std::atomic<uint64_t> mediaIn{0}, mediaOut{0}, directOut{0}, toJs{0}, dropped{0}, truncated{0}, sendErrors{0}, strangers{0};

  Slots in;   // reads from the public port
  Slots out;  // reads from libjuice, sent on with one sendmmsg
  int outUsed = 0;
};

constexpr uint32_t kLocalBase = 0x7F010000;  // 127.1.0.0
constexpr uint32_t kMaxId = 0x00FEFFFE;      // up to 127.255.255.254

// Sends to libjuice from the session's own loopback address.
bool SendToJuice(Relay* r, uint32_t local, const void* data, size_t len) {
  iovec iov{const_cast<void*>(data), len};
  alignas(cmsghdr) uint8_t ctl[kCtl] = {0};
  msghdr m{};
  m.msg_name = &r->juice;
  m.msg_namelen = sizeof r->juice;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl;
  m.msg_controllen = kCtl;
  cmsghdr* c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = IPPROTO_IP;
  c->cmsg_type = IP_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
  in_pktinfo pi{};
  pi.ipi_spec_dst.s_addr = htonl(local);
  memcpy(CMSG_DATA(c), &pi, sizeof pi);
  return sendmsg(r->inner, &m, MSG_DONTWAIT) >= 0;
}

// The key of an address as the map holds it: its bytes and port.
std::string KeyOf(const sockaddr_storage& sa) {
  if (sa.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(sa);
    std::string k(reinterpret_cast<const char*>(&a.sin6_addr), 16);
    k.append(reinterpret_cast<const char*>(&a.sin6_port), 2);
    return k;
  }
  const auto& a = reinterpret_cast<const sockaddr_in&>(sa);
  std::string k(reinterpret_cast<const char*>(&a.sin_addr), 4);
  k.append(reinterpret_cast<const char*>(&a.sin_port), 2);
  return k;
}

void NameOf(const sockaddr_storage& sa, std::string* address, int* port) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (sa.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(sa);
    inet_ntop(AF_INET6, &a.sin6_addr, text, sizeof text);
    *port = ntohs(a.sin6_port);
  } else {
    const auto& a = reinterpret_cast<const sockaddr_in&>(sa);
    inet_ntop(AF_INET, &a.sin_addr, text, sizeof text);
    *port = ntohs(a.sin_port);
  }
  *address = text;
}

// An address from JavaScript (as this module reported it) for the public socket's family.
bool ParseAddress(const Relay& r, const std::string& address, int port, sockaddr_storage* sa, socklen_t* len) {
  memset(sa, 0, sizeof *sa);
  if (r.v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(sa);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(uint16_t(port));
    std::string text = address.find(':') == std::string::npos ? "::ffff:" + address : address;
    size_t pct = text.find('%');
    if (pct != std::string::npos) text.resize(pct);
    if (inet_pton(AF_INET6, text.c_str(), &a->sin6_addr) != 1) return false;
    *len = sizeof(sockaddr_in6);
    return true;
  }
  auto* a = reinterpret_cast<sockaddr_in*>(sa);
  a->sin_family = AF_INET;
  a->sin_port = htons(uint16_t(port));
  std::string text = address.rfind("::ffff:", 0) == 0 ? address.substr(7) : address;
  if (inet_pton(AF_INET, text.c_str(), &a->sin_addr) != 1) return false;
  *len = sizeof(sockaddr_in);
  return true;
}

void Enqueue(Relay* r, bool fromFront, uint32_t id, const sockaddr_storage* from, const uint8_t* data, size_t len) {
  std::lock_guard<std::mutex> lock(r->qmu);
  if (r->queue.size() >= kMaxQueued) {
    r->dropped++;
    return;
  }
  Item item{fromFront, id, std::string(), 0, std::vector<uint8_t>(data, data + len)};
  if (from) NameOf(*from, &item.address, &item.port);
  r->queue.push_back(std::move(item));
  r->toJs++;
}

void FlushOut(Relay* r) {
  int sent = 0;
  while (sent < r->outUsed) {
    int n = sendmmsg(r->front, &r->out.msgs[sent], unsigned(r->outUsed - sent), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      // A full send buffer or an unreachable client: that datagram is lost, as UDP would lose it.
      r->sendErrors++;
      r->dropped++;
      sent++;
      continue;
    }
    r->mediaOut += uint64_t(n);
    sent += n;
  }
  r->outUsed = 0;
}

void ReadFront(Relay* r) {
  for (int i = 0; i < kBatch; i++) r->in.Arm(i, true);
  int n = recvmmsg(r->front, r->in.msgs, kBatch, MSG_DONTWAIT, nullptr);
  for (int i = 0; i < n; i++) {
    const mmsghdr& m = r->in.msgs[i];
    if (m.msg_hdr.msg_flags & MSG_TRUNC) {
      r->truncated++;
      continue;
    }
    const uint8_t* buf = r->in.buf[i];
    size_t len = m.msg_len;
    if (len > 0 && IsMedia(buf[0])) {
      auto it = r->byCurrent.find(KeyOf(r->in.addr[i]));
      if (it != r->byCurrent.end()) {
        auto s = r->sessions.find(it->second);
        if (s != r->sessions.end() && s->second.fast) {
          s->second.currentSeen = NowMs();
          if (SendToJuice(r, s->second.local, buf, len)) r->mediaIn++;
          else r->sendErrors++;
          continue;
        }
      }
    }
    Enqueue(r, true, 0, &r->in.addr[i], buf, len);
  }
}

// The loopback address a datagram from libjuice was sent to: which session it is for (0: none).
uint32_t DestinationOf(msghdr& h) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      return ntohl(pi.ipi_addr.s_addr);
    }
  }
  return 0;
}

void ReadInner(Relay* r) {
  if (r->outUsed == kBatch) FlushOut(r);
  int base = r->outUsed;
  for (int i = base; i < kBatch; i++) r->out.Arm(i, true);
  int n = recvmmsg(r->inner, &r->out.msgs[base], unsigned(kBatch - base), MSG_DONTWAIT, nullptr);
  for (int i = base; i < base + (n > 0 ? n : 0); i++) {
    mmsghdr& m = r->out.msgs[i];
    size_t len = m.msg_len;
    uint8_t* buf = r->out.buf[i];
    const auto& from = reinterpret_cast<const sockaddr_in&>(r->out.addr[i]);
    if (from.sin_family != AF_INET || from.sin_addr.s_addr != r->juice.sin_addr.s_addr || from.sin_port != r->juice.sin_port) {
      r->strangers++;  // only libjuice may send here
      continue;
    }
    if (m.msg_hdr.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
      r->truncated++;
      continue;
    }
    auto l = r->byLocal.find(DestinationOf(m.msg_hdr));
    if (l == r->byLocal.end()) continue;  // a session that just closed
    auto it = r->sessions.find(l->second);
    if (it == r->sessions.end()) continue;
    Session& s = it->second;
    if (len > 0 && IsMedia(buf[0]) && s.fast) {
      if (!s.hasCurrent) continue;  // no client address yet: JavaScript would drop it too
      int at = r->outUsed++;
      if (at != i) memcpy(r->out.buf[at], buf, len);
      r->out.Arm(at, false);
      r->out.iov[at].iov_len = len;
      memcpy(&r->out.addr[at], &s.current, s.currentLen);
      r->out.msgs[at].msg_hdr.msg_namelen = s.currentLen;
      continue;
    }
    Enqueue(r, false, l->second, nullptr, buf, len);
  }
}

void Loop(Relay* r) {
  epoll_event events[256];
  while (!r->stopping.load()) {
    int n = epoll_wait(r->epoll, events, 256, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (r->stopping.load()) break;
    timespec gather{0, kGatherNs};
    nanosleep(&gather, nullptr);
    n = epoll_wait(r->epoll, events, 256, 0);
    if (n < 0) continue;
    {
      std::lock_guard<std::mutex> lock(r->mu);
      for (int i = 0; i < n; i++) {
        uint64_t tag = events[i].data.u64;
        if (tag == kWakeTag) {
          uint64_t v;
          ssize_t ignored = read(r->wake, &v, sizeof v);
          (void)ignored;
        } else if (tag == kFrontTag) {
          ReadFront(r);
        } else {
          ReadInner(r);
        }
      }
      FlushOut(r);
    }
    bool call = false;
    {
      std::lock_guard<std::mutex> lock(r->qmu);
      if (!r->queue.empty() && !r->scheduled) r->scheduled = call = true;
    }
    if (call) napi_call_threadsafe_function(r->tsfn, nullptr, napi_tsfn_nonblocking);
  }
}

// ---- libjuice's sendto, replaced ----

std::mutex gHookMu;           // guards gHooked against a relay going away
Relay* gHooked = nullptr;     // the relay whose sessions the hook sends for
bool gHookInstalled = false;  // the GOT entry points at HookSendto (for the process's life)

ssize_t HookSendto(int fd, const void* buf, size_t len, int flags, const sockaddr* to, socklen_t tolen) {
  if (to != nullptr && to->sa_family == AF_INET && tolen >= sizeof(sockaddr_in) && len > 0 && IsMedia(static_cast<const uint8_t*>(buf)[0])) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(to);
    std::lock_guard<std::mutex> hook(gHookMu);
    Relay* r = gHooked;
    if (r != nullptr && a->sin_port == htons(uint16_t(r->innerPort))) {
      std::lock_guard<std::mutex> lock(r->mu);
      auto l = r->byLocal.find(ntohl(a->sin_addr.s_addr));
      if (l != r->byLocal.end()) {
        auto it = r->sessions.find(l->second);
        if (it != r->sessions.end() && it->second.fast && it->second.hasCurrent) {
          const Session& s = it->second;
          ssize_t n = sendto(r->front, buf, len, flags | MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&s.current), s.currentLen);
          if (n >= 0) r->directOut++;
          else r->sendErrors++;
          return n;
        }
      }
    }
  }
  return sendto(fd, buf, len, flags, to, tolen);
}

struct GotSearch {
  const char* object;
  const char* symbol;
  void** slot;
};

// Finds `symbol`'s import slot in the loaded object whose path ends with `object` (x86-64, AArch64: RELA).
int FindGotSlot(dl_phdr_info* info, size_t, void* data) {
  auto* q = static_cast<GotSearch*>(data);
  const char* name = info->dlpi_name;
  size_t nl = name ? strlen(name) : 0, ol = strlen(q->object);
  if (nl < ol || strcmp(name + nl - ol, q->object) != 0) return 0;
  const ElfW(Dyn)* dyn = nullptr;
  for (int i = 0; i < info->dlpi_phnum; i++)
    if (info->dlpi_phdr[i].p_type == PT_DYNAMIC) dyn = reinterpret_cast<const ElfW(Dyn)*>(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
  if (dyn == nullptr) return 1;
  // glibc relocates these d_ptr values in place; other loaders may not.
  auto at = [&](ElfW(Addr) p) { return p < info->dlpi_addr ? p + info->dlpi_addr : p; };
  const ElfW(Sym)* symtab = nullptr;
  const char* strtab = nullptr;
  const ElfW(Rela)* tables[2] = {nullptr, nullptr};
  size_t sizes[2] = {0, 0};
  for (const ElfW(Dyn)* d = dyn; d->d_tag != DT_NULL; d++) {
    switch (d->d_tag) {
      case DT_SYMTAB: symtab = reinterpret_cast<const ElfW(Sym)*>(at(d->d_un.d_ptr)); break;
      case DT_STRTAB: strtab = reinterpret_cast<const char*>(at(d->d_un.d_ptr)); break;
      case DT_JMPREL: tables[0] = reinterpret_cast<const ElfW(Rela)*>(at(d->d_un.d_ptr)); break;
      case DT_PLTRELSZ: sizes[0] = d->d_un.d_val; break;
      case DT_RELA: tables[1] = reinterpret_cast<const ElfW(Rela)*>(at(d->d_un.d_ptr)); break;
      case DT_RELASZ: sizes[1] = d->d_un.d_val; break;
      default: break;
    }
  }
  if (symtab == nullptr || strtab == nullptr) return 1;
  for (int t = 0; t < 2; t++) {
    if (tables[t] == nullptr) continue;
    for (size_t i = 0; i < sizes[t] / sizeof(ElfW(Rela)); i++) {
      const ElfW(Rela)& rel = tables[t][i];
      size_t sym = ELF64_R_SYM(rel.r_info);
      if (sym == 0 || strcmp(strtab + symtab[sym].st_name, q->symbol) != 0) continue;
      q->slot = reinterpret_cast<void**>(info->dlpi_addr + rel.r_offset);
      return 1;
    }
  }
  return 1;
}

// Points node-datachannel's sendto at HookSendto; false when its import slot is not found.
bool InstallHook() {
#if defined(__x86_64__) || defined(__aarch64__)
  if (gHookInstalled) return true;
  GotSearch q{"node_datachannel.node", "sendto", nullptr};
  dl_iterate_phdr(FindGotSlot, &q);
  if (q.slot == nullptr) return false;
  long page = sysconf(_SC_PAGESIZE);
  auto base = reinterpret_cast<uintptr_t>(q.slot) & ~uintptr_t(page - 1);
  // The slot may be in RELRO (read-only after start): make its page writable for the store.
  if (mprotect(reinterpret_cast<void*>(base), size_t(page), PROT_READ | PROT_WRITE) != 0) return false;
  __atomic_store_n(q.slot, reinterpret_cast<void*>(&HookSendto), __ATOMIC_SEQ_CST);
  gHookInstalled = true;
  return true;
#else
  return false;
#endif
}

// ---- JavaScript side ----

napi_value Throw(napi_env env, const char* code, const char* message) {
  napi_throw_error(env, code, message);
  return nullptr;
}

void CallJs(napi_env env, napi_value cb, void* context, void*) {
  auto* r = static_cast<Relay*>(context);
  std::vector<Item> items;
  {
    std::lock_guard<std::mutex> lock(r->qmu);
    items.swap(r->queue);
    r->scheduled = false;
  }
  if (env == nullptr || cb == nullptr) return;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  for (auto& item : items) {
    napi_value args[4];
    void* copy;
    napi_create_buffer_copy(env, item.data.size(), item.data.data(), &copy, &args[1]);
    if (item.fromFront) {
      napi_create_uint32(env, 0, &args[0]);
      napi_create_string_utf8(env, item.address.c_str(), item.address.size(), &args[2]);
      napi_create_int32(env, item.port, &args[3]);
    } else {
      napi_create_uint32(env, item.id, &args[0]);
      args[2] = undefined;
      args[3] = undefined;
    }
    napi_call_function(env, undefined, cb, 4, args, nullptr);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) return;  // the exception surfaces as an uncaught one, as a dgram handler's would
  }
}

void Shutdown(Relay* r) {
  if (r->shut) return;
  r->shut = true;
  {
    std::lock_guard<std::mutex> hook(gHookMu);
    if (gHooked == r) gHooked = nullptr;
  }
  r->stopping = true;
  if (r->started) {
    uint64_t one = 1;
    ssize_t ignored = write(r->wake, &one, sizeof one);
    (void)ignored;
    r->thread.join();
  }
  std::lock_guard<std::mutex> lock(r->mu);
  r->sessions.clear();
  r->byCurrent.clear();
  r->byLocal.clear();
  if (r->inner >= 0) close(r->inner);
  if (r->front >= 0) close(r->front);
  if (r->epoll >= 0) close(r->epoll);
  if (r->wake >= 0) close(r->wake);
  r->front = r->inner = r->epoll = r->wake = -1;
}

void Release(Relay* r) {
  if (--r->refs == 0) delete r;
}

// The threadsafe function's finalizer: the thread is stopped before the function goes away.
void TsfnFinalize(napi_env, void* data, void*) {
  auto* r = static_cast<Relay*>(data);
  Shutdown(r);
  r->tsfnGone = true;
  Release(r);
}

void Finalize(napi_env, void* data, void*) {
  auto* r = static_cast<Relay*>(data);
  Shutdown(r);
  if (!r->tsfnGone) napi_release_threadsafe_function(r->tsfn, napi_tsfn_abort);
  Release(r);
}

Relay* Unwrap(napi_env env, napi_value v) {
  void* data = nullptr;
  if (napi_get_value_external(env, v, &data) != napi_ok || data == nullptr) {
    Throw(env, "ERR_INVALID_ARG_TYPE", "not a relay");
    return nullptr;
  }
  auto* r = static_cast<Relay*>(data);
  if (r->shut) {
    Throw(env, "ERR_SOCKET_DGRAM_NOT_RUNNING", "relay is closed");
    return nullptr;
  }
  return r;
}

std::string StringArg(napi_env env, napi_value v) {
  char text[256];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, text, sizeof text, &len) != napi_ok) return std::string();
  return std::string(text, len);
}

int IntArg(napi_env env, napi_value v) {
  int32_t x = 0;
  napi_get_value_int32(env, v, &x);
  return x;
}

napi_value Errno(napi_env env, const char* what) {
  char code[32];
  const char* name = errno == EADDRINUSE ? "EADDRINUSE" : errno == EACCES ? "EACCES" : errno == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : nullptr;
  if (name == nullptr) snprintf(code, sizeof code, "E%d", errno);
  std::string message = std::string(what) + ": " + strerror(errno);
  return Throw(env, name ? name : code, message.c_str());
}

#define ARGS(n)                 \
  size_t argc = n;              \
  napi_value argv[n];           \
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);

// The arguments of a call on a relay (argv[0]); returns (with the exception set) when it is closed.
#define RELAY_ARGS(n)                \
  ARGS(n);                           \
  Relay* r = Unwrap(env, argv[0]);   \
  if (!r) return nullptr;

// create(onDatagram(id, buf, address?, port?)) -> relay
napi_value Create(napi_env env, napi_callback_info info) {
  ARGS(1);
  auto* r = new Relay();
  napi_value name;
  napi_create_string_utf8(env, "sluice-udp-relay", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[0], nullptr, name, 0, 1, r, TsfnFinalize, r, CallJs, &r->tsfn) != napi_ok) {
    delete r;
    return Throw(env, "ERR_NATIVE", "threadsafe function");
  }
  napi_unref_threadsafe_function(env, r->tsfn);  // the public socket does not keep the process alive by itself
  napi_value ext;
  napi_create_external(env, r, Finalize, nullptr, &ext);
  return ext;
}

constexpr uint64_t kInnerTag = UINT64_MAX - 1;

// The socket every session's loopback address is on; -1 and errno set on failure.
int OpenInner(Relay* r) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int on = 1;
  setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
  // Loopback only where allowed (CAP_NET_RAW); else datagrams from anywhere but libjuice are dropped by their source.
  setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3);
  int size = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  r->innerPort = ntohs(a.sin_port);
  return fd;
}

// bind(relay, address, port, v6, juicePort, reusePort) -> port
// reusePort (--workers): every worker binds the port itself; the kernel keeps each client on one of them.
napi_value Bind(napi_env env, napi_callback_info info) {
  RELAY_ARGS(6);
  if (r->front >= 0) return Throw(env, "ERR_SOCKET_ALREADY_BOUND", "already bound");
  std::string address = StringArg(env, argv[1]);
  int port = IntArg(env, argv[2]);
  bool v6 = false;
  napi_get_value_bool(env, argv[3], &v6);
  r->v6 = v6;
  r->juice.sin_family = AF_INET;
  r->juice.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  r->juice.sin_port = htons(uint16_t(IntArg(env, argv[4])));
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno(env, "socket");
  if (v6) {
    int off = 0;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  }
  bool reuse = false;
  napi_get_value_bool(env, argv[5], &reuse);
  if (reuse) {
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) < 0) {
      napi_value e = Errno(env, "SO_REUSEPORT");
      close(fd);
      return e;
    }
  }
  int size = 4 << 20;  // fan-out bursts: one frame to every player in one wake-up
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  sockaddr_storage sa;
  socklen_t len;
  if (!ParseAddress(*r, address, port, &sa, &len)) {
    close(fd);
    return Throw(env, "ERR_INVALID_ADDRESS", "bad bind address");
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), len) < 0) {
    napi_value e = Errno(env, "bind");
    close(fd);
    return e;
  }
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  int bound = sa.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6&>(sa).sin6_port) : ntohs(reinterpret_cast<sockaddr_in&>(sa).sin_port);
  int inner = OpenInner(r);
  if (inner < 0) {
    napi_value e = Errno(env, "loopback socket");
    close(fd);
    return e;
  }
  r->front = fd;
  r->inner = inner;
  r->epoll = epoll_create1(EPOLL_CLOEXEC);
  r->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kFrontTag;
  epoll_ctl(r->epoll, EPOLL_CTL_ADD, r->front, &ev);
  ev.data.u64 = kWakeTag;
  epoll_ctl(r->epoll, EPOLL_CTL_ADD, r->wake, &ev);
  ev.data.u64 = kInnerTag;
  epoll_ctl(r->epoll, EPOLL_CTL_ADD, r->inner, &ev);
  r->thread = std::thread(Loop, r);
  r->started = true;
  napi_value out;
  napi_create_int32(env, bound, &out);
  return out;
}

// open(relay) -> [id, address, port]: the session's loopback address, the one libjuice will see.
napi_value Open(napi_env env, napi_callback_info info) {
  RELAY_ARGS(1);
  uint32_t id;
  uint32_t local;
  {
    std::lock_guard<std::mutex> lock(r->mu);
    if (r->sessions.size() >= kMaxId) return Throw(env, "ERR_TOO_MANY_SESSIONS", "no loopback address left");
    do {
      id = r->nextId++;
      if (r->nextId > kMaxId) r->nextId = 1;
    } while (r->sessions.count(id) != 0);
    local = kLocalBase + id;
    Session& s = r->sessions[id];
    s.local = local;
    r->byLocal[local] = id;
  }
  in_addr a;
  a.s_addr = htonl(local);
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, text, sizeof text);
  napi_value out, v;
  napi_create_array_with_length(env, 3, &out);
  napi_create_uint32(env, id, &v);
  napi_set_element(env, out, 0, v);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &v);
  napi_set_element(env, out, 1, v);
  napi_create_int32(env, r->innerPort, &v);
  napi_set_element(env, out, 2, v);
  return out;
}

void DropCurrent(Relay* r, Session& s) {
  if (!s.hasCurrent) return;
  auto it = r->byCurrent.find(s.currentKey);
  if (it != r->byCurrent.end()) r->byCurrent.erase(it);
  s.hasCurrent = false;
  s.currentKey.clear();
}

// The session a call names, or null; the caller holds r->mu.
Session* FindSession(Relay* r, uint32_t id) {
  auto it = r->sessions.find(id);
  return it == r->sessions.end() ? nullptr : &it->second;
}

uint32_t IdArg(napi_env env, napi_value v) {
  uint32_t id = 0;
  napi_get_value_uint32(env, v, &id);
  return id;
}

// close(relay, id)
napi_value CloseSession(napi_env env, napi_callback_info info) {
  RELAY_ARGS(2);
  uint32_t id = IdArg(env, argv[1]);
  std::lock_guard<std::mutex> lock(r->mu);
  auto it = r->sessions.find(id);
  if (it == r->sessions.end()) return nullptr;
  DropCurrent(r, it->second);
  r->byLocal.erase(it->second.local);
  r->sessions.erase(it);
  return nullptr;
}

// current(relay, id, address | null, port): where the session's media goes, and whose media takes the fast path in.
napi_value SetCurrent(napi_env env, napi_callback_info info) {
  RELAY_ARGS(4);
  uint32_t id = IdArg(env, argv[1]);
  napi_valuetype t;
  napi_typeof(env, argv[2], &t);
  sockaddr_storage sa;
  socklen_t len = 0;
  bool has = t == napi_string;
  if (has && !ParseAddress(*r, StringArg(env, argv[2]), IntArg(env, argv[3]), &sa, &len)) return Throw(env, "ERR_INVALID_ADDRESS", "bad address");
  std::lock_guard<std::mutex> lock(r->mu);
  Session* found = FindSession(r, id);
  if (found == nullptr) return nullptr;
  Session& s = *found;
  DropCurrent(r, s);
  if (!has) return nullptr;
  std::string key = KeyOf(sa);
  auto prev = r->byCurrent.find(key);
  if (prev != r->byCurrent.end()) {  // one address, one session
    auto other = r->sessions.find(prev->second);
    if (other != r->sessions.end()) {
      other->second.hasCurrent = false;
      other->second.currentKey.clear();
    }
    r->byCurrent.erase(prev);
  }
  s.current = sa;
  s.currentLen = len;
  s.currentKey = key;
  s.hasCurrent = true;
  s.currentSeen = NowMs();
  r->byCurrent[key] = id;
  return nullptr;
}

// fast(relay, id, on): whether the session's media may bypass JavaScript.
napi_value SetFast(napi_env env, napi_callback_info info) {
  RELAY_ARGS(3);
  uint32_t id = IdArg(env, argv[1]);
  bool on = false;
  napi_get_value_bool(env, argv[2], &on);
  std::lock_guard<std::mutex> lock(r->mu);
  if (Session* s = FindSession(r, id)) s->fast = on;
  return nullptr;
}

// seenAgo(relay, id) -> ms since media last came from the session's current address on the fast path, or -1
napi_value SeenAgo(napi_env env, napi_callback_info info) {
  RELAY_ARGS(2);
  uint32_t id = IdArg(env, argv[1]);
  int64_t ago = -1;
  {
    std::lock_guard<std::mutex> lock(r->mu);
    Session* s = FindSession(r, id);
    if (s != nullptr && s->hasCurrent) ago = NowMs() - s->currentSeen;
  }
  napi_value out;
  napi_create_int64(env, ago, &out);
  return out;
}

bool BufferArg(napi_env env, napi_value v, void** data, size_t* len) {
  return napi_get_buffer_info(env, v, data, len) == napi_ok;
}

// sendFront(relay, buf, address, port)
napi_value SendFront(napi_env env, napi_callback_info info) {
  RELAY_ARGS(4);
  void* data;
  size_t len;
  if (!BufferArg(env, argv[1], &data, &len)) return Throw(env, "ERR_INVALID_ARG_TYPE", "not a buffer");
  sockaddr_storage sa;
  socklen_t salen;
  if (!ParseAddress(*r, StringArg(env, argv[2]), IntArg(env, argv[3]), &sa, &salen)) return Throw(env, "ERR_INVALID_ADDRESS", "bad address");
  if (sendto(r->front, data, len, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&sa), salen) < 0) r->sendErrors++;
  return nullptr;
}

// sendInner(relay, id, buf)
napi_value SendInner(napi_env env, napi_callback_info info) {
  RELAY_ARGS(3);
  uint32_t id = IdArg(env, argv[1]);
  void* data;
  size_t len;
  if (!BufferArg(env, argv[2], &data, &len)) return Throw(env, "ERR_INVALID_ARG_TYPE", "not a buffer");
  std::lock_guard<std::mutex> lock(r->mu);
  Session* s = FindSession(r, id);
  if (s != nullptr && !SendToJuice(r, s->local, data, len)) r->sendErrors++;
  return nullptr;
}

// direct(relay) -> whether libjuice's sends for this relay's sessions now go straight to the clients.
napi_value Direct(napi_env env, napi_callback_info info) {
  RELAY_ARGS(1);
  bool ok = false;
  {
    std::lock_guard<std::mutex> hook(gHookMu);
    if (gHooked == nullptr || gHooked == r) {
      ok = InstallHook();
      if (ok) gHooked = r;
    }
  }
  napi_value out;
  napi_get_boolean(env, ok, &out);
  return out;
}

// stats(relay) -> { mediaIn, mediaOut, toJs, dropped, truncated, sendErrors }
napi_value Stats(napi_env env, napi_callback_info info) {
  RELAY_ARGS(1);
  napi_value out, v;
  napi_create_object(env, &out);
  const std::pair<const char*, uint64_t> fields[] = {
      {"mediaIn", r->mediaIn}, {"mediaOut", r->mediaOut}, {"directOut", r->directOut}, {"toJs", r->toJs}, {"dropped", r->dropped}, {"truncated", r->truncated}, {"sendErrors", r->sendErrors}, {"strangers", r->strangers}};
  for (const auto& f : fields) {
    napi_create_double(env, double(f.second), &v);
    napi_set_named_property(env, out, f.first, v);
  }
  return out;
}

// shutdown(relay): stops the thread, closes every socket.
napi_value ShutdownJs(napi_env env, napi_callback_info info) {
  ARGS(1);
  void* data = nullptr;
  if (napi_get_value_external(env, argv[0], &data) != napi_ok || data == nullptr) return nullptr;
  Shutdown(static_cast<Relay*>(data));
  return nullptr;
}

#define METHOD(name, fn) {name, nullptr, fn, nullptr, nullptr, nullptr, napi_default, nullptr}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      METHOD("create", Create),       METHOD("bind", Bind),           METHOD("open", Open),
      METHOD("close", CloseSession),  METHOD("current", SetCurrent),  METHOD("fast", SetFast),
      METHOD("seenAgo", SeenAgo),     METHOD("sendFront", SendFront), METHOD("sendInner", SendInner),
      METHOD("direct", Direct),       METHOD("stats", Stats),         METHOD("shutdown", ShutdownJs),
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
