// OPC UA ServiceLevel (OPC 10000-4 §6.6.2.4.2): 0 Maintenance and 1 NoData mean the server cannot
// serve data; 2..199 Degraded; 200..255 Healthy. A healthy server is never left for its level alone.
export type ServiceLevelClass = 'unusable' | 'degraded' | 'healthy';

export function classifyServiceLevel(level: number): ServiceLevelClass {
  if (level <= 1) return 'unusable';
  if (level < 200) return 'degraded';
  return 'healthy';
}
