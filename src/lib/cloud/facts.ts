/**
 * What the cloud knows of the devices of one run (names, the Device OS version it last heard), asked once for all
 * of them: one request for one device, one list for several. Best effort: offline, logged out or unreachable is
 * "nothing known" (the Cloud warns once).
 */
import {type Cloud, type CloudDevice} from './cloud.js'

export interface CloudStatus {
  /** Logged in and online, but the cloud failed to answer (unreachable, 5xx): said as such, not as "log in". */
  failed: boolean
  loggedIn: boolean
  offline: boolean
}

export class CloudFacts {
  private asked?: Promise<Map<string, CloudDevice>>

  constructor(
    private readonly cloud: Pick<Cloud, 'settings' | 'tryDevices'> & {readonly usable?: boolean},
    private readonly ids: readonly string[],
  ) {}

  /** Whether the cloud could be asked at all. */
  get status(): CloudStatus {
    const loggedIn = Boolean(this.cloud.settings.accessToken)
    const offline = this.cloud.settings.offline
    return {failed: loggedIn && !offline && this.cloud.usable === false, loggedIn, offline}
  }

  /** The cloud's record of one of the run's devices, or undefined. */
  async device(id: string): Promise<CloudDevice | undefined> {
    return (await this.known()).get(id)
  }

  /** Every record the cloud has of the run's devices (started at most once). */
  known(): Promise<Map<string, CloudDevice>> {
    this.asked ??= this.cloud.tryDevices([...this.ids])
    return this.asked
  }
}

/** No cloud at all (a library caller that gives none): nothing known. */
export const NO_CLOUD = new CloudFacts({settings: {apiUrl: '', from: 'none', offline: true, profile: 'none'}, tryDevices: async () => new Map()}, [])
