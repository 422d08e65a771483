/**
 * CPU time this process has used since `start` (ms). A bound on it catches a
 * parser that loops or goes quadratic, and unlike wall time it does not grow
 * when other processes take the machine.
 */
export function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}
