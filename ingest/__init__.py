"""From the files a city has to rows of the grid database."""
