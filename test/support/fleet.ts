/**
 * A fleet fixture for the audit: `size` devices of mixed platforms, Device OS versions, online states and
 * development flags, with the counts it must produce worked out from the fixture itself (by rules written here
 * independently of src/lib/audit), so tests and the bench compare against the fixture, not against the code.
 */
import {platformsById} from '@particle/device-constants'

import type {VirtualCloudDevice} from '../../src/lib/cloud/virtual.js'

export const FLEET_PLATFORMS = [13, 12, 23, 26, 25, 22, 14, 32, 35, 6, 10] as const
export const FLEET_VERSIONS = ['1.5.2', '2.3.1', '3.3.1', '4.0.0-alpha.1', '4.0.0', '5.9.0', '6.2.0', undefined] as const

const NRF_CAN_UPGRADE = new Set([12, 13, 22, 23, 25, 26])
const MESH_ONLY = new Set([14])

export function fleetId(n: number): string {
  return `e00f${n.toString(16).padStart(20, '0')}`
}

export function fleetDevice(i: number): VirtualCloudDevice {
  const platformId = FLEET_PLATFORMS[i % FLEET_PLATFORMS.length]
  const version = FLEET_VERSIONS[Math.floor(i / FLEET_PLATFORMS.length) % FLEET_VERSIONS.length]
  return {
    connected: i % 3 === 0,
    development: i % 7 === 0,
    id: fleetId(i),
    name: `unit-${i}`,
    platform_id: platformId,
    system_firmware_version: version,
  }
}

export function fleet(size: number): VirtualCloudDevice[] {
  return Array.from({length: size}, (_, i) => fleetDevice(i))
}

export function expectedRisk(d: VirtualCloudDevice): string {
  const v = d.system_firmware_version
  const above = v !== undefined && Number(v.split('.')[0]) >= 4
  if (NRF_CAN_UPGRADE.has(d.platform_id)) return v === undefined ? 'unknown' : above ? 'safe' : 'at-risk'
  if (MESH_ONLY.has(d.platform_id)) return above ? 'safe' : 'cannot-upgrade'
  return 'safe'
}

export interface FleetCounts {
  deviceOs: Record<string, number>
  platform: Record<string, number>
  risk: Record<string, number>
  shown: number
}

export function expectedCounts(devices: VirtualCloudDevice[]): FleetCounts {
  const c: FleetCounts = {deviceOs: {}, platform: {}, risk: {'at-risk': 0, 'cannot-upgrade': 0, safe: 0, unknown: 0}, shown: 0}
  for (const d of devices) {
    c.shown++
    c.risk[expectedRisk(d)]++
    const line = d.system_firmware_version ? `${d.system_firmware_version.split('.')[0]}.x` : 'unknown'
    c.deviceOs[line] = (c.deviceOs[line] ?? 0) + 1
    const name = platformsById[d.platform_id].name
    c.platform[name] = (c.platform[name] ?? 0) + 1
  }
  return c
}
