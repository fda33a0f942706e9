// Wakes the coordinator's I/O loop when an actor has written to its mailbox. The loop sleeps in
// a poll on the workers' sockets; without this, a message from a job actor (new tasks, a job
// done) would wait out the poll's timeout, a few milliseconds per hop. Rules of the road: an
// eventfd that any thread may notify() (after its send to the loop's mailbox) and the loop polls
// with its sockets and clear()s before draining the mailbox.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <stdexcept>

namespace proofmesh::coordinator {

class loop_waker {
public:
  loop_waker() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) throw std::runtime_error("eventfd failed");
  }
  ~loop_waker() { ::close(fd_); }
  loop_waker(const loop_waker&) = delete;
  loop_waker& operator=(const loop_waker&) = delete;

  void notify() const {
    const uint64_t one = 1;
    (void)!::write(fd_, &one, sizeof one);
  }
  void clear() const {
    uint64_t count = 0;
    (void)!::read(fd_, &count, sizeof count);
  }
  int fd() const { return fd_; }

private:
  int fd_;
};

} // namespace proofmesh::coordinator
