"""What the instructor publishes: released assignments (:mod:`.release`, with each source
cell's measured time, :mod:`.cell_times`), the student bundle (:mod:`.bundle`), rendered
lectures (:mod:`.render`) and slides (:mod:`.slides`), and the sample class (:mod:`.samples`)."""
