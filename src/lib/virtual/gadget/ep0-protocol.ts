/** The shared-memory handshake between a gadget's ep0 worker and the main thread. */
export const CTRL_SEQ = 0
export const CTRL_ANSWER = 1
export const CTRL_LENGTH = 2
export const CTRL_WORDS = 4
export const DATA_BYTES = 65_536

export const Answer = {
  /** Send CTRL_LENGTH bytes of the data buffer (IN). */
  IN_DATA: 1,
  STALL: 2,
  /** Read the OUT data stage (or acknowledge a request without one) and post it back. */
  READ_DATA: 3,
  /** Leave the request without a status stage (the device never answers; the host times out). */
  IGNORE: 4,
} as const
