"""One check shared by the reports that set several models' results side by side: every
number must come from the same images of one dataset (results.json's 'examples' record)."""

from run_support.errors import UserError


def check_same_images(rows):
  """`rows`: dicts with the 'dataset', 'folder', 'results' (path) and 'examples' of each
  model's results; UserError naming the first that measured another image set."""
  first = rows[0]['examples']
  for row in rows[1:]:
    if row['dataset'] != rows[0]['dataset']:
      raise UserError(f'{row["folder"]} is a {row["dataset"]} model, {rows[0]["folder"]} a '
                      f'{rows[0]["dataset"]} one: one dataset per report')
    if row['examples'].get('sha256') != first.get('sha256'):
      raise UserError(f'{row["results"]} measured {row["examples"].get("which")} of '
                      f'{row["examples"].get("source")}, not the images of '
                      f'{rows[0]["results"]} ({first.get("which")} of {first.get("source")})')
