"""Scale-out over Redis (docs/scale-out.md): crawl workers on any number of machines, one archive writer.

``messages``  the Redis keys, the crawl job, the stream messages and the crawl-state snapshot, (de)serialised
``config``    ``[cluster] redis_url`` of the user config, and the connection
``crawl``     what runs inside a worker's crawl process: the spider's state from Redis, the scrapy-redis request
              queue, the pipeline that streams items out, the recorder that streams the run's close
``settings``  the Scrapy settings of a worker's crawl (``crawler.settings`` with those pieces swapped in)
``worker``    ``yibao worker``: takes jobs from Redis, runs each as a crawl subprocess, keeps its lock alive

The writer's side (``yibao writer``: the stream into the archive, runs opened and closed, the crawl state
snapshots, enqueueing) is ``ops.cluster_writer``: it is the only side that opens the archive.
"""
