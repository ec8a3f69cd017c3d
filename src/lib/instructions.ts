/**
 * What a person is told to do with their hands or their system, written once: the buttons for DFU and Safe Mode,
 * and the udev rule with where it goes. Every text that asks for buttons (errors, the doctor, the field card,
 * advice) composes its sentence from these (ground floor: no imports).
 */

/** The DFU-mode buttons (the LED then blinks yellow). */
export const DFU_BUTTONS = 'hold MODE, tap RESET, release MODE when the LED blinks yellow'
/** The Safe Mode buttons (the LED then breathes magenta). */
export const SAFE_MODE_BUTTONS = 'hold MODE and RESET, release RESET, release MODE when the LED blinks magenta'

/** RESET alone: a restart into the boot check. */
export const RESET_BUTTON = 'tap RESET'
/** The USB cable, out and in again (a device powered by USB only then starts afresh). */
export const UNPLUG_CABLE = 'unplug its USB cable'
export const PLUG_CABLE = 'plug its USB cable in'

/** The buttons as a step of their own, for a person about to press them. */
export const DFU_STEPS = `Put the device in DFU mode: ${DFU_BUTTONS}.`
export const SAFE_MODE_STEPS = `Put the device in Safe Mode: ${SAFE_MODE_BUTTONS}. It then breathes magenta.`

/** Said when a device must be put in DFU mode by hand. */
export const DFU_BY_HAND = `Put it in DFU mode by hand: ${DFU_BUTTONS}; then run the command again.`
/** Said when a device must be put in Safe Mode by hand. */
export const SAFE_MODE_BY_HAND = `Put it in Safe Mode by hand: ${SAFE_MODE_BUTTONS}, then run the command again.`

/** The exact udev rule for Particle's vendor ID; `particle usb configure` installs an equivalent file. */
export const UDEV_RULE =
  'SUBSYSTEMS=="usb", ATTRS{idVendor}=="2b04", ATTRS{idProduct}=="[cd]0??", GROUP="plugdev", MODE="0666", ENV{ID_MM_DEVICE_IGNORE}="1"'
/** Where udev rules live on Linux, and the official CLI's file name there. */
export const UDEV_RULES_DIR = '/etc/udev/rules.d'
export const UDEV_RULES_FILE = '50-particle.rules'

/** The command that adds the rule to `file` (root needed; adds one line, removes nothing). */
export function udevInstallCommand(file = `${UDEV_RULES_DIR}/${UDEV_RULES_FILE}`): string {
  return `echo '${UDEV_RULE}' | sudo tee -a ${file} && sudo udevadm control --reload-rules`
}
