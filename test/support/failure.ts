import {expect} from 'chai'

import {SetupFlagError} from '../../src/lib/errors.js'

/** What a promise rejects with, which must be one of our errors (a test fails if it resolves or throws anything else). */
export async function failure(p: Promise<unknown>): Promise<SetupFlagError> {
  try {
    await p
  } catch (error) {
    expect(error).to.be.instanceOf(SetupFlagError)
    return error as SetupFlagError
  }
  throw new Error('expected a failure')
}
