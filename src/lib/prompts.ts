/**
 * Prompts for people at a terminal, over @inquirer/prompts (imported only when a prompt is really shown, so
 * commands that never ask pay nothing at start-up). Tests replace the whole object.
 */
export interface Choice<T> {
  description?: string
  name: string
  value: T
}

export interface Prompter {
  confirm(message: string, defaultAnswer?: boolean): Promise<boolean>
  select<T>(message: string, choices: Array<Choice<T>>): Promise<T>
}

export const inquirerPrompter: Prompter = {
  async confirm(message, defaultAnswer = true) {
    const {confirm} = await import('@inquirer/prompts')
    return confirm({default: defaultAnswer, message}, {output: process.stderr})
  },
  async select(message, choices) {
    const {select} = await import('@inquirer/prompts')
    return select({choices, message}, {output: process.stderr})
  },
}
