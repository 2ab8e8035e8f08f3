/** `kq lab`'s one-line summary, for the CLI's command list (which must not load the lab itself). */
export const LAB_SUMMARY =
  'Replay a workload against deployment approaches (a model of their controllers, or real workers), compare them, and tune their settings';
