/**
 * The opt-in shell function that lets `particle setup-flag ...` reach this tool next to the official Particle CLI:
 * a function named `particle` that sends `particle setup-flag ...` to `particle-setup-flag setup-flag ...` and
 * everything else, untouched, to the real `particle`. Nothing is installed and no `particle`
 * bin is ever claimed; removing the line from the shell profile undoes it.
 */

export const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const
export type Shell = (typeof SHELLS)[number]

/** The standalone bin that the function calls (never `particle`, which belongs to the official CLI). */
export const TARGET_BIN = 'particle-setup-flag'
/** The first word that is ours. */
export const TOPIC = 'setup-flag'

/** The line a user puts in their shell profile. */
export function activationLine(shell: Shell): string {
  const print = `${TARGET_BIN} ${TOPIC} shell-init ${shell}`
  switch (shell) {
    case 'fish': {
      return `${print} | source`
    }
    case 'powershell': {
      return `${print} | Out-String | Invoke-Expression`
    }
    default: {
      return `eval "$(${print})"`
    }
  }
}

export function profileFile(shell: Shell): string {
  switch (shell) {
    case 'bash': {
      return '~/.bashrc'
    }
    case 'fish': {
      return '~/.config/fish/config.fish'
    }
    case 'powershell': {
      return '$PROFILE'
    }
    case 'zsh': {
      return '~/.zshrc'
    }
  }
}

/**
 * The script for `shell`. bash and zsh (and any POSIX shell) reach the real CLI through `command`, which skips
 * functions; fish has the same builtin; PowerShell asks Get-Command for the application (particle.exe, or npm's
 * particle.cmd), because there a function outranks any external command of the same name.
 */
export function shellScript(shell: Shell): string {
  const header = [
    `particle setup-flag ... runs ${TARGET_BIN} setup-flag ...; every other particle command runs the official Particle CLI.`,
    `Added by: ${activationLine(shell)}`,
  ]
  switch (shell) {
    case 'fish': {
      return [
        ...header.map((l) => `# ${l}`),
        'function particle --description "Particle CLI, with setup-flag from particle-plugin-setup-flag"',
        `    if test (count $argv) -gt 0; and test "$argv[1]" = ${TOPIC}`,
        `        command ${TARGET_BIN} $argv`,
        '    else',
        '        command particle $argv',
        '    end',
        'end',
        '',
      ].join('\n')
    }
    case 'powershell': {
      // Both ends as applications: on Windows npm's .cmd shim (a .ps1 shim may be blocked by the execution
      // policy), elsewhere the executable itself; never this function again.
      return [
        ...header.map((l) => `# ${l}`),
        'function particle {',
        `    $name = if ($args.Count -gt 0 -and $args[0] -ceq '${TOPIC}') { '${TARGET_BIN}' } else { 'particle' }`,
        '    $app = Get-Command -Name $name -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1',
        '    if (-not $app) {',
        '        Write-Error "particle: no $name program on PATH"',
        '        $global:LASTEXITCODE = 127',
        '        return',
        '    }',
        '    & $app.Source @args',
        '}',
        '',
      ].join('\n')
    }
    default: {
      // Plain POSIX function syntax: the same text works in bash, zsh, dash and ksh.
      return [
        ...header.map((l) => `# ${l}`),
        'particle() {',
        `    if [ "$#" -gt 0 ] && [ "$1" = ${TOPIC} ]; then`,
        `        command ${TARGET_BIN} "$@"`,
        '    else',
        '        command particle "$@"',
        '    fi',
        '}',
        '',
      ].join('\n')
    }
  }
}
