/** Clock ticks per second of /proc/stat: fixed at 100 by the Linux user-space ABI. */
export const USER_HZ = 100;
