package netpoll

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The poller's sockets are non-blocking: read(2), write(2) and writev(2) on them return at
// once (EAGAIN instead of waiting), so they are made as raw system calls, without telling the
// scheduler that the goroutine entered a system call. An ordinary call (syscall.Syscall)
// marks the processor as in a system call; with GOMAXPROCS=1 sysmon then wakes every 20 us
// to retake it and hand it to another thread, which is what a blocking call needs and a
// non-blocking one only pays for (measured on request/response, pinned: sysmon alone took
// 8% of the server's CPU; bench/README.md, "One core"). The one blocking call, easygo's
// epoll_wait, stays an ordinary one.

// read is read(2) on a non-blocking descriptor.
func read(fd int, p []byte) (int, error) { return rawIO(unix.SYS_READ, fd, p) }

// write is write(2) on a non-blocking descriptor.
func write(fd int, p []byte) (int, error) { return rawIO(unix.SYS_WRITE, fd, p) }

// rawIO makes read(2) or write(2) (trap) on fd with p as a raw system call.
func rawIO(trap uintptr, fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r, _, errno := unix.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// writev writes up to maxIovec buffers with one writev(2) on a non-blocking descriptor,
// without allocating. Empty buffers are skipped.
func writev(fd int, bufs []outBuf) (int, error) {
	var iov [maxIovec]unix.Iovec
	n := 0
	for _, o := range bufs {
		if n == maxIovec {
			break
		}
		if len(o.b) == 0 {
			continue
		}
		iov[n].Base = &o.b[0]
		iov[n].SetLen(len(o.b))
		n++
	}
	if n == 0 {
		return 0, nil
	}
	r, _, errno := unix.RawSyscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(n))
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}
