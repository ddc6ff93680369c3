"""Server-side SVG of a BPMN process diagram (流程图), drawn from the file's diagram interchange (DI).

The page embeds the returned string as is, so there is no JavaScript and no external reference: arrowheads
are plain polygons rather than `<marker>`s (whose ids would collide when two diagrams share a page), and
every CSS rule is scoped under the root class. Names and ids come from uploaded files and are escaped;
coordinates are accepted only when they are finite numbers.

The modules, each depending only on those listed before it:

- geometry: points and boxes, and the tests on them (overlap, segment crossing)
- reading: the model elements, the plane to draw, and each DI shape's bounds, waypoints and name
- text: estimated text widths and line wrapping
- svg: number formatting, escaping and the basic SVG elements
- style: the embedded stylesheet
- canvas: paint layers and the drawn area, which becomes the viewBox
- obstacles: what labels placed outside shapes should not cover
- labels: outside names of events, gateways and data, and caption pills
- icons: event, task-type and marker pictures
- shapes: one shape, by category
- edges: one edge, with arrowhead, start marker and name
- plane: a whole plane in paint order
- render: `render_svg`, the entry point
"""

from engine.process.diagram.render import render_svg

__all__ = ["render_svg"]
