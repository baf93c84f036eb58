#include "process/fork_events.h"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "util/fs.h"

namespace greenrun {

void ProcessCount::watch(pid_t root) {
  if (members_.insert(root).second) ++started_;
}

void ProcessCount::fork(pid_t parent_tgid, pid_t child_pid, pid_t child_tgid) {
  if (child_pid != child_tgid || !members_.count(parent_tgid)) return;
  if (members_.insert(child_tgid).second) ++started_;
}

void ProcessCount::exit(pid_t pid, pid_t tgid) {
  if (pid == tgid) members_.erase(tgid);
}

int feed_proc_events(std::string_view datagram, ProcessCount& count, uint32_t ack_token, bool* acked) {
  int err = 0;
  const char* p = datagram.data();
  size_t left = datagram.size();
  while (left >= sizeof(nlmsghdr)) {
    nlmsghdr h;
    std::memcpy(&h, p, sizeof h);
    if (h.nlmsg_len < sizeof h || h.nlmsg_len > left) break;
    const size_t body = h.nlmsg_len - NLMSG_HDRLEN;
    if (h.nlmsg_type == NLMSG_DONE && body >= sizeof(cn_msg)) {
      cn_msg m;
      std::memcpy(&m, p + NLMSG_HDRLEN, sizeof m);
      proc_event ev{};
      if (m.id.idx == CN_IDX_PROC && m.len <= body - sizeof(cn_msg)) {
        std::memcpy(&ev, p + NLMSG_HDRLEN + sizeof(cn_msg), std::min<size_t>(m.len, sizeof ev));
        if (ev.what == proc_event::PROC_EVENT_FORK)
          count.fork(ev.event_data.fork.parent_tgid, ev.event_data.fork.child_pid, ev.event_data.fork.child_tgid);
        else if (ev.what == proc_event::PROC_EVENT_EXIT)
          count.exit(ev.event_data.exit.process_pid, ev.event_data.exit.process_tgid);
        else if (ev.what == proc_event::PROC_EVENT_NONE && m.ack == ack_token + 1) {
          err = static_cast<int>(ev.event_data.ack.err);
          if (acked) *acked = true;
        }
      }
    }
    const size_t step = NLMSG_ALIGN(h.nlmsg_len);
    if (step >= left) break;
    p += step;
    left -= step;
  }
  return err;
}

namespace {

// The kernel sends the proc connector's events only to the initial user and
// PID namespaces (and answers nothing elsewhere: not worth a wait).
std::string namespace_problem() {
  auto uid_map = read_file("/proc/self/uid_map");
  if (!uid_map || uid_map->find("4294967295") == std::string::npos) return "greenrun runs in a user namespace";
  auto status = read_file("/proc/self/status");
  if (!status) return "cannot read /proc/self/status";
  const size_t at = status->find("\nNSpid:");
  if (at != std::string::npos) {
    // One pid per namespace the process is in, the initial one first.
    int pids = 0;
    bool in_word = false;
    for (size_t i = at + 7; i < status->size() && (*status)[i] != '\n'; ++i) {
      const bool blank = (*status)[i] == ' ' || (*status)[i] == '\t';
      pids += !blank && !in_word;
      in_word = !blank;
    }
    if (pids > 1) return "greenrun runs in a PID namespace";
  }
  return "";
}

// The request carries `token` in its ack field: the kernel's answer, sent to
// every listener, carries token + 1 (and a sequence number of its own).
int send_listen(int fd, uint32_t token) {
  const uint32_t op = PROC_CN_MCAST_LISTEN;
  alignas(nlmsghdr) char buf[NLMSG_SPACE(sizeof(cn_msg) + sizeof op)] = {};
  auto* h = reinterpret_cast<nlmsghdr*>(buf);
  h->nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(sizeof(cn_msg) + sizeof op));
  h->nlmsg_type = NLMSG_DONE;
  auto* m = reinterpret_cast<cn_msg*>(NLMSG_DATA(h));
  m->id = {CN_IDX_PROC, CN_VAL_PROC};
  m->ack = token;
  m->len = sizeof op;
  std::memcpy(m->data, &op, sizeof op);
  return ::send(fd, buf, h->nlmsg_len, 0) < 0 ? errno : 0;
}

}  // namespace

Result<std::unique_ptr<ForkEvents>> ForkEvents::open() {
  using R = Result<std::unique_ptr<ForkEvents>>;
  if (::geteuid() != 0) return R::fail("not root");
  if (auto why = namespace_problem(); !why.empty()) return R::fail(why);
  const int fd = ::socket(PF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR);
  if (fd < 0) return R::fail("no proc connector: " + errno_text(errno));
  std::unique_ptr<ForkEvents> events(new ForkEvents(fd));
  // Room for the events between two drains on a busy machine; as root the
  // kernel's limit does not apply.
  const int buffer = 8 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = CN_IDX_PROC;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return R::fail("cannot join the proc connector: " + errno_text(errno));
  const uint32_t token = static_cast<uint32_t>(::getpid());
  if (int err = send_listen(fd, token)) return R::fail("cannot listen to the proc connector: " + errno_text(err));
  // The kernel answers within the send; the poll only guards against a silent one.
  bool acked = false;
  char buf[8192];
  for (int tries = 0; !acked && tries < 64; ++tries) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) continue;
    if (int err = feed_proc_events(std::string_view(buf, static_cast<size_t>(n)), events->count_, token, &acked))
      return R::fail("the proc connector refused: " + errno_text(err));
  }
  if (!acked) return R::fail("the proc connector did not answer");
  return events;
}

ForkEvents::~ForkEvents() { ::close(fd_); }

void ForkEvents::drain() {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == ENOBUFS) {  // the buffer overflowed: some events are lost
      lost_ = true;
      continue;
    }
    if (n <= 0) return;
    feed_proc_events(std::string_view(buf, static_cast<size_t>(n)), count_, kNoToken, nullptr);
  }
}

}  // namespace greenrun
