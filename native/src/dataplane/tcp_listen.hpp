// The socket side of the native TCP loop: a non-blocking listening socket, and a peer's address as
// text. Plain C++, no Node header.
#pragma once
#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "ragwire/status.hpp"

namespace ragwire::dataplane {

// Binds host:port (port 0: ephemeral) and listens; `fd` and `bound_port` receive the socket and its port.
Status listen_tcp(const std::string& host, uint16_t port, int* fd, uint16_t* bound_port);

// `host:port`, or `[host]:port` for IPv6.
std::string peer_name(const sockaddr_storage& a);

}  // namespace ragwire::dataplane
