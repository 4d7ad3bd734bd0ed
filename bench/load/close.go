package load

import "encoding/binary"

// CloseCode returns the status code of the close frame that made ReadMessage return
// io.EOF: its first two payload bytes (RFC 6455 section 5.5.1), 1005 when it carried
// none (section 7.1.5), 0 while no close frame has been read.
func (c *Conn) CloseCode() int { return c.closeCode }

func closeStatus(payload []byte) int {
	if len(payload) < 2 {
		return 1005
	}
	return int(binary.BigEndian.Uint16(payload))
}

// WriteClose writes a masked close frame with status code (RFC 6455 section 5.5.1) and no
// reason. Like WriteText, it may run beside one reader.
func (c *Conn) WriteClose(code int) error {
	return c.writeFrame(0x8, []byte{byte(code >> 8), byte(code)})
}
