// Desktop notifications behind an interface: the UI asks for one, the implementation decides how
// (the freedesktop Notifications service over D-Bus, or nothing where there is no desktop).

export interface DesktopNotice {
  /** The headline, e.g. "alice in #general". */
  readonly title: string;
  /** The text under it (the first line of the message); empty to show the title alone. */
  readonly body: string;
}

export interface Notifier {
  /** Shows a notice; never throws (a notifier that fails goes quiet and says so once, in `lastError`). */
  notify(notice: DesktopNotice): Promise<void>;
  /** Why the last notice was not shown, if it was not. */
  readonly lastError: string | undefined;
  close(): void;
}

/** A notifier that shows nothing (no desktop, or notifications off). */
export const silentNotifier: Notifier = {
  notify: async () => {},
  lastError: undefined,
  close: () => {},
};
