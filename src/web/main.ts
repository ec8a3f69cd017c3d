// The page's entry: the core, as the CLI runs it, for the browser (the flow comes in src/lib/web/).
import {FlagOperation} from '../lib/setup-flag/operation.js'
import {eventText} from '../lib/text/doctor.js'
import {createVirtualUsb} from '../lib/virtual/core.js'

export const parts = {createVirtualUsb, eventText, FlagOperation, examples: PAGE_EXAMPLES}
