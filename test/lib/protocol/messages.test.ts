// The hand-encoded messages, proved byte for byte against the official definitions (@particle/device-os-protobuf).
import {expect} from 'chai'
import {createRequire} from 'node:module'

import {RequestType} from '../../../src/lib/protocol/constants.js'
import {
  decodeGetDeviceIdReply,
  decodeGetDeviceModeReply,
  decodeGetSystemVersionReply,
  decodeIsDeviceSetupDoneReply,
  decodeSetDeviceSetupDoneRequest,
  encodeGetDeviceModeReply,
  encodeIsDeviceSetupDoneReply,
  encodeSetDeviceSetupDoneRequest,
  encodeStringField1,
  MessageError,
} from '../../../src/lib/protocol/messages.js'

interface Official {
  decode(name: string, data: Uint8Array): Record<string, unknown>
  encode(name: string, data?: Record<string, unknown> | null): Uint8Array
  getDefinition(name: string): {id: null | number; replyMessage?: {name: string}}
}
const official = createRequire(import.meta.url)('@particle/device-os-protobuf') as Official
const bytes = (u: Uint8Array) => [...u]

describe('protobuf messages vs @particle/device-os-protobuf', () => {
  it('uses the official request type ids', () => {
    expect(official.getDefinition('SetDeviceSetupDoneRequest').id).to.equal(RequestType.SET_DEVICE_SETUP_DONE)
    expect(official.getDefinition('IsDeviceSetupDoneRequest').id).to.equal(RequestType.IS_DEVICE_SETUP_DONE)
    expect(official.getDefinition('GetSystemVersionRequest').id).to.equal(RequestType.SYSTEM_VERSION)
    expect(official.getDefinition('GetDeviceModeRequest').id).to.equal(RequestType.GET_DEVICE_MODE)
    expect(official.getDefinition('GetDeviceIdRequest').id).to.equal(RequestType.DEVICE_ID)
    expect(official.getDefinition('StopListeningModeRequest').id).to.equal(RequestType.STOP_LISTENING)
    expect(official.getDefinition('StartListeningModeRequest').id).to.equal(RequestType.START_LISTENING)
    expect(official.getDefinition('SystemResetRequest').id).to.equal(RequestType.RESET)
  })

  it('encodes SetDeviceSetupDoneRequest exactly as protobufjs does', () => {
    for (const done of [true, false]) {
      expect(bytes(encodeSetDeviceSetupDoneRequest(done))).to.deep.equal(bytes(official.encode('SetDeviceSetupDoneRequest', {done})))
    }
    expect(bytes(encodeSetDeviceSetupDoneRequest(true))).to.deep.equal([0x08, 0x01])
    expect(bytes(encodeSetDeviceSetupDoneRequest(false))).to.deep.equal([0x08, 0x00])
  })

  it('sends empty requests as zero bytes', () => {
    for (const n of ['IsDeviceSetupDoneRequest', 'GetSystemVersionRequest', 'GetDeviceModeRequest', 'StopListeningModeRequest']) {
      expect(official.encode(n, {}).length, n).to.equal(0)
    }
  })

  it('decodes what the official encoder produces, and what nanopb sends for defaults', () => {
    for (const done of [true, false]) {
      expect(decodeIsDeviceSetupDoneReply(official.encode('IsDeviceSetupDoneReply', {done}))).to.equal(done)
      expect(decodeSetDeviceSetupDoneRequest(official.encode('SetDeviceSetupDoneRequest', {done}))).to.equal(done)
    }
    expect(decodeIsDeviceSetupDoneReply(new Uint8Array(0))).to.equal(false)
    expect(decodeGetSystemVersionReply(official.encode('GetSystemVersionReply', {version: '3.3.1'}))).to.equal('3.3.1')
    expect(bytes(official.encode('GetSystemVersionReply', {version: '3.3.1'}))).to.deep.equal([0x0a, 0x05, 0x33, 0x2e, 0x33, 0x2e, 0x31])
    expect(decodeGetDeviceIdReply(official.encode('GetDeviceIdReply', {id: 'e00fce681a2b3c4d5e6f7a8b'}))).to.equal('e00fce681a2b3c4d5e6f7a8b')
    expect(decodeGetDeviceModeReply(official.encode('GetDeviceModeReply', {mode: 1}))).to.equal(1)
    expect(decodeGetDeviceModeReply(new Uint8Array(0))).to.equal(0)
  })

  it('encodes device-side replies that the official decoder reads back', () => {
    expect(official.decode('IsDeviceSetupDoneReply', encodeIsDeviceSetupDoneReply(true)).done).to.equal(true)
    expect(official.decode('IsDeviceSetupDoneReply', encodeIsDeviceSetupDoneReply(false)).done).to.equal(false)
    expect(bytes(encodeIsDeviceSetupDoneReply(true))).to.deep.equal([0x08, 0x01])
    expect(encodeIsDeviceSetupDoneReply(false).length).to.equal(0)
    expect(official.decode('GetDeviceModeReply', encodeGetDeviceModeReply(1)).mode).to.equal(1)
    expect(official.decode('GetSystemVersionReply', encodeStringField1('6.2.0')).version).to.equal('6.2.0')
  })

  it('skips unknown fields and rejects malformed input with a MessageError', () => {
    // field 2 varint, then field 1 = true
    expect(decodeIsDeviceSetupDoneReply(Uint8Array.of(0x10, 0x05, 0x08, 0x01))).to.equal(true)
    for (const bad of [[0x08], [0x0a, 0x05, 0x33], [0x08, 0x80], [0x0b], [0x00, 0x01], [0x0a, 0x01, 0xff]]) {
      expect(() => decodeGetSystemVersionReply(Uint8Array.from(bad)), bad.join(' ')).to.throw(MessageError)
    }
  })
})
